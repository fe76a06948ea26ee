/** Fake credentials the emulator hands out; signatures are never verified. */
export const AWS_TEST_CREDENTIALS = Object.freeze({
  accessKeyId: "AKIAK3SINFRAEMULATOR",
  secretAccessKey: "k3sinfra-emulator-secret-access-key",
});
