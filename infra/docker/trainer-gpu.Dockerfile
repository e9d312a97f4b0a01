# syntax=docker/dockerfile:1.7
# Pretext GPU trainer: the container AWS Batch / ECS / Kubernetes run for each training attempt.
#   docker build -f infra/docker/trainer-gpu.Dockerfile -t pretext-trainer-gpu .
# BuildKit reads trainer-gpu.Dockerfile.dockerignore next to this file.
#
# Why CUDA 11.2 + cuDNN 8: @tensorflow/tfjs-node-gpu 4.22 loads libtensorflow 2.9.1, which is built against
# CUDA 11.2 / cuDNN 8.1 (libcudart.so.11.0). CUDA 12 bases fail to load it. The host only needs an NVIDIA driver
# new enough for CUDA 11.2 (the ECS GPU AMI's is). A10G (g5, sm_86) runs natively on this toolkit; L4/H100
# would fall back to PTX JIT, which is why infra/batch.ts defaults to g5.
ARG CUDA_BASE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
ARG NODE_IMAGE=node:20-bookworm-slim

# Official Node 20 build (needs glibc >= 2.28; Ubuntu 20.04 has 2.31). Copied instead of piping an install
# script from the internet, so the version is whatever the pinned node image carries.
FROM ${NODE_IMAGE} AS node

# ---- build: compile TypeScript (no GPU needed) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npm run build

# ---- deps: production node_modules + tfjs-node-gpu, installed on the CUDA base it will run on ----
FROM ${CUDA_BASE} AS deps
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update \
 # tfjs-node-gpu's install script downloads libtensorflow (GPU) and its prebuilt binding; python3/make/g++ are
 # the fallback if the binding has to be compiled. They stay in this stage only.
 && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev \
 # Not a package.json dependency: it cannot install on CPU-only developer machines (see environment.md).
 && npm install --no-save --omit=dev @tensorflow/tfjs-node-gpu@4.22.0 \
 && npm cache clean --force

# ---- runtime ----
FROM ${CUDA_BASE} AS runtime
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# tini as PID 1: forwards SIGTERM (cancel, spot interruption, activeDeadlineSeconds) to node so the trainer can
# write a last checkpoint, and reaps zombies. Dispatchers override CMD (Batch/ECS `command`, Kubernetes `args`),
# never this ENTRYPOINT.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 trainer
ENV NODE_ENV=production \
    # Allocate GPU memory as needed instead of TensorFlow grabbing it all up front.
    TF_FORCE_GPU_ALLOW_GROWTH=true \
    TF_CPP_MIN_LOG_LEVEL=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER trainer
ENTRYPOINT ["/usr/bin/tini", "--"]
# The trainer reads everything else (spec, presigned URLs) from the gateway with its job-scoped token
# (PRETEXT_* env set by the dispatcher); it holds no database or cloud credentials.
CMD ["node", "dist/src/training/main.js"]
