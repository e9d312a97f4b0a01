# syntax=docker/dockerfile:1.7
# Pretext GPU trainer: the container AWS Batch / ECS / Kubernetes run for each training attempt.
#   docker build -f infra/docker/trainer-gpu.Dockerfile -t pretext-trainer-gpu .
# BuildKit reads trainer-gpu.Dockerfile.dockerignore next to this file.
#
# GPU engine: TensorFlow.js's WebGPU backend on Dawn (the `webgpu` package ships dawn.node prebuilt inside its npm
# tarball) over the NVIDIA Vulkan driver. It needs no CUDA toolkit, cuDNN or libtensorflow, so it runs on any GPU
# whose driver speaks Vulkan: A10G, L4/L40S (Ada), H100/H200 (Hopper). tfjs-node-gpu 4.22 was dropped: its
# libtensorflow 2.9.1 (CUDA 11.2, cuDNN 8.1) has no Hopper/Ada kernels (PTX JIT only) and its install script
# downloads libtensorflow from outside the lockfile. README "GPU training" has the evidence.
#
# Everything npm installs comes from the two lockfiles (npm ci): the trainer's package-lock.json and the GPU
# engine's infra/trainer-gpu/package-lock.json. Nothing else is fetched at build time besides the base images
# and Ubuntu/Debian packages.
ARG GPU_BASE=nvidia/cuda:12.8.1-base-ubuntu24.04
ARG NODE_IMAGE=node:20-bookworm-slim

# Official Node 20 build, copied into the GPU base (no install script piped from the internet).
FROM ${NODE_IMAGE} AS node

# ---- build: compile TypeScript (no GPU needed) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN PRISMA_SCHEMA_ENGINE_BINARY=/bin/true npm run build

# ---- deps: production node_modules, then the GPU engine beside them, both from lockfiles ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
# The GPU packages resolve @tensorflow/tfjs-core from /app/node_modules (their .npmrc sets legacy-peer-deps, so
# no second tfjs-core is installed for tfjs-backend-webgpu to register into).
COPY infra/trainer-gpu/package.json infra/trainer-gpu/package-lock.json infra/trainer-gpu/.npmrc ./infra/trainer-gpu/
RUN cd infra/trainer-gpu && npm ci --omit=dev && npm cache clean --force

# ---- runtime ----
FROM ${GPU_BASE} AS runtime
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# tini as PID 1: forwards SIGTERM (cancel, spot interruption, activeDeadlineSeconds) to node so the trainer can
# write a last checkpoint, and reaps zombies. Dispatchers override CMD (Batch/ECS `command`, Kubernetes `args`),
# never this ENTRYPOINT. libvulkan1 is the Vulkan loader Dawn opens; the NVIDIA driver's Vulkan ICD is mounted
# by the NVIDIA container toolkit when the graphics capability is requested (below).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini libvulkan1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1001 trainer \
 # Fallback ICD manifest for toolkits that mount libGLX_nvidia but not the JSON that points the loader at it.
 && mkdir -p /usr/share/vulkan/icd.d \
 && printf '%s\n' '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}' > /usr/share/vulkan/icd.d/nvidia_icd.json
ENV NODE_ENV=production \
    # compute + utility (nvidia-smi: device name and memory in the device report) + graphics (Vulkan driver).
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    PRETEXT_GPU_PACKAGES=/app/infra/trainer-gpu
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/infra/trainer-gpu ./infra/trainer-gpu
COPY --from=build /app/dist ./dist
COPY package.json ./
USER trainer
ENTRYPOINT ["/usr/bin/tini", "--"]
# The trainer reads everything else (spec, presigned URLs) from the gateway with its job-scoped token
# (PRETEXT_* env set by the dispatcher); it holds no database or cloud credentials. At start it proves its device
# (src/training/engine/device-probe.ts): a GPU run without a working GPU engine fails instead of using the CPU.
CMD ["node", "dist/src/training/main.js"]
