/** The API token the emulator accepts unless `fixtures.cloudflare.tokens` says otherwise. */
export const CLOUDFLARE_TEST_TOKEN = "k3sinfra-emulator-token";
