/** The OCI distribution registry client: pull and push manifests and blobs, with auth, retries and checks. */
export {
  Authenticator,
  type Challenge,
  parseChallenges,
  repositoryScope,
} from "./auth.js";
export {
  type BlobRef,
  type FetchedManifest,
  type GetManifestOptions,
  MANIFEST_ACCEPT,
  type ManifestDescription,
  type OpenBlobOptions,
  type PushBlobOptions,
  type PushedBlob,
  type ReferenceLike,
  RegistryClient,
  type RegistryClientOptions,
  type RequestOptions,
} from "./client.js";
export { RegistryError, type RegistryErrorCode, type RequestContext } from "./errors.js";
export {
  type Credential,
  credentialFromHeader,
  DOCKER_HUB_CONFIG_KEY,
  DockerKeychain,
  type DockerKeychainOptions,
  type HelperResult,
  type HelperRunner,
  type Keychain,
  normalizeRegistryHost,
  parseRegistryAuthEnv,
  runCredentialHelper,
} from "./keychain.js";
export type { UploadSource } from "./source.js";
export { type Fetch, isLoopbackHost, Transport, type TransportOptions } from "./transport.js";
export { DigestVerifier } from "./verify.js";
