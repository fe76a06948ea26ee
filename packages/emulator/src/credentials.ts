/**
 * The fake credentials the emulated clouds accept, as `@k3sinfra/emulator/credentials`: a front end that points
 * providers at an emulator it has not started (a command that reads no cloud) loads these and nothing else.
 */
export { AWS_TEST_CREDENTIALS } from "./aws/kernel/credentials.js";
export { AZURE_TEST_CREDENTIALS } from "./azure/credentials.js";
export { CLOUDFLARE_TEST_TOKEN } from "./cloudflare/credentials.js";
