// K3s server bootstrap: cloud-init user data, the systemd unit and its stages, the K3s config, version choice,
// the Rancher install (by the cluster, or the commands to run).
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
  K3S_CLUSTER_CIDR,
  K3S_CONFIG_PATH,
  type K3sConfigInput,
  renderK3sConfig,
} from "./k3s-config.js";
export { METADATA_KEYS, type MetadataKey, type MetadataReader } from "./metadata.js";
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
  type RancherWatchInput,
  renderRancherCommands,
  renderRancherWatchCommands,
} from "./rancher.js";
export {
  CERT_MANAGER_CHART_REPO,
  RANCHER_BOOTSTRAP_VALUES_SECRET,
  RANCHER_CHART_REPO,
  RANCHER_DEFAULT_REPLICAS,
  RANCHER_MANIFEST_PATH,
  RANCHER_MANIFEST_TEMPLATE_PATH,
  type RancherInstallInput,
  renderRancherManifests,
} from "./rancher-install.js";
export { BOOTSTRAP_SCRIPT_PATH, CONFIG_TEMPLATE_PATH } from "./script.js";
export {
  BOOT_STAGE_PATTERN,
  BOOT_STAGES,
  BOOTSTRAP_STATE_DIR,
  BOOTSTRAP_UNIT_NAME,
  BOOTSTRAP_UNIT_PATH,
  type BootStage,
  type BootStageEvent,
  type BootStageLine,
  parseBootStages,
  renderBootstrapUnit,
} from "./stages.js";
export { renderTraefikConfig, TRAEFIK_CONFIG_PATH, TRAEFIK_REPLICAS } from "./traefik.js";
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
