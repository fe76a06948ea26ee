/** The service principal and subscription the emulated Azure accepts (any secret works only for this client id). */
export const AZURE_TEST_CREDENTIALS = Object.freeze({
  tenantId: "6b2a4c1e-0d3f-4e5a-9b8c-7d6e5f4a3b2c",
  clientId: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
  clientSecret: "k3sinfra-emulator-client-secret",
  subscriptionId: "00000000-1111-4222-8333-444444444444",
});
