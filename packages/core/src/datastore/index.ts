// Datastore readiness: version support and an idempotent K3s database and user on a real MySQL/MariaDB.
export { type CheckDatastoreInput, checkDatastore, type DatastoreReport } from "./check.js";
export { datastoreError, type ErrorContext } from "./errors.js";
export {
  assessServer,
  type DatastoreFlavor,
  parseServerVersion,
  type ServerAssessment,
  type ServerFacts,
  type ServerVersion,
} from "./version.js";
