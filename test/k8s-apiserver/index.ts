/** A stand-in Kubernetes API server that runs Pods with Podman, and a kubeconfig for it (see ./server.ts). */
export { type KubeconfigSpec, writeKubeconfig } from "./kubeconfig.js";
export { type ApiServer, type ApiServerOptions, startApiServer } from "./server.js";
