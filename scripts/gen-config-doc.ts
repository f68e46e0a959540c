import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from '../src/config/index.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDoc());
