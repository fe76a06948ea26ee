import { runAzureContract } from "./contract-doors.js";
import { startAzureEmulator } from "./helpers.js";

runAzureContract("azure (emulator)", () => startAzureEmulator({ seed: 13 }));
