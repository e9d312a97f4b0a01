# syntax=docker/dockerfile:1.7
# Pretext gateway (GraphQL API, inference, local worker). Build from the repository root:
#   docker build -f infra/docker/gateway.Dockerfile -t pretext-gateway .
# BuildKit reads gateway.Dockerfile.dockerignore next to this file.

# ---- build: compile TypeScript and generate the Prisma client (needs dev dependencies) ----
FROM node:20-slim AS build
WORKDIR /app
# package.json's allowScripts denies onnxruntime-node's install script: the CPU execution provider is bundled, and
# the CUDA download would fail (and is not wanted) in the gateway image.
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
# prisma generate does not use the schema engine; pointing it at /bin/true avoids a binary download.
RUN PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npm run build

# ---- runtime: production dependencies + compiled output only ----
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --omit=dev keeps the compiler, jest and aws-cdk-lib out of the image; native addons (sharp, onnxruntime-node,
# hnswlib-node, tokenizers) install their prebuilt linux-x64 glibc binaries, which node:20-slim (Debian) runs.
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/schema.graphql ./schema.graphql
# Unprivileged user that ships with the node image.
USER node
EXPOSE 4000
# Liveness without curl (not in -slim): Node 20 has fetch built in.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node (not npm) as the main process so SIGTERM from ECS/Kubernetes reaches the server for a graceful shutdown.
CMD ["node", "bin/pretext.js", "serve"]
