// K3s server bootstrap: cloud-init user data, the K3s config, version choice and the Rancher install commands.
export {
  type BootstrapCommonInput,
  type BootstrapDatastoreInput,
  type BootstrapInput,
  type InlineSecretsInput,
  type NodeSecretReader,
  renderCloudInit,
  type StoreSecretsInput,
  tlsSans,
  validateBootstrapInput,
} from "./cloud-init.js";
export { DATASTORE_PREP_PATHS } from "./datastore-prep.js";
export {
  DATASTORE_CA_PATH,
  type DatastoreEndpointParts,
  datastoreEndpoint,
  K3S_CONFIG_PATH,
  type K3sConfigInput,
  renderK3sConfig,
} from "./k3s-config.js";
export {
  AWS_METADATA_READER,
  AZURE_METADATA_READER,
  GCP_METADATA_READER,
  METADATA_KEYS,
  METADATA_READERS,
  type MetadataKey,
  type MetadataReader,
} from "./metadata.js";
export {
  type NodeSecretNames,
  type NodeSecretReaderFile,
  type NodeSecretStore,
  SECRET_PLACEHOLDERS,
} from "./node-secrets.js";
export {
  type KubeconfigInput,
  kubeconfigCommands,
  type RancherCommandsInput,
  renderRancherCommands,
} from "./rancher.js";
export { awsRdsCaUrl } from "./rds-ca.js";
export { BOOTSTRAP_SCRIPT_PATH, CONFIG_TEMPLATE_PATH } from "./script.js";
export { renderTraefikConfig, TRAEFIK_CONFIG_PATH } from "./traefik.js";
export {
  CERT_MANAGER_RELEASES,
  CERT_MANAGER_VERSIONS,
  certManagerVersionFor,
  compareK3sVersions,
  defaultK3sFor,
  K3S_PINNED_VERSIONS,
  type K3sVersion,
  type K3sVersionResolution,
  knownRancherVersions,
  MIN_K3S_FOR_MYSQL_84,
  parseK3sVersion,
  RANCHER_RELEASES,
  type RancherRelease,
  rancherRelease,
  resolveK3sVersion,
} from "./versions.js";
