/**
 * A sleep that can be cut short, for the scheduler's and the maintenance loops' waits between
 * passes: `wake()` ends the sleep in progress, or, when none is, makes the next one return at once
 * (so a wake-up that arrives while a pass runs is not lost).
 */
export class Sleeper {
  private wakeCurrent: (() => void) | null = null;
  private woken = false;

  /** `unref`: the sleep alone does not keep the process alive. */
  constructor(private readonly unref: boolean) {}

  /** Whether a sleep is in progress. */
  get sleeping(): boolean {
    return this.wakeCurrent !== null;
  }

  /** Sleep `ms`, or less if woken. */
  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeCurrent = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (this.unref) timer.unref();
      this.wakeCurrent = done;
    });
  }

  /** End the sleep in progress, or the next one at once. */
  wake(): void {
    if (this.wakeCurrent) this.wakeCurrent();
    else this.woken = true;
  }
}
