// A crash after any mutating ARM call of an up or a destroy, in k3sinfra's own VNet (crash-suite.ts).
import { crashSuite } from "./crash-suite.js";

crashSuite({ label: "" });
