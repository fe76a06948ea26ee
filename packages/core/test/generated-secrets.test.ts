import { describe, expect, it } from "vitest";
import { generateSecrets } from "../src/orchestrator/secrets.js";

describe("generated secrets", () => {
  it("are alphanumeric with an upper-case letter, a lower-case letter and a digit, every time", () => {
    // A purely random 32-character alphanumeric string lacks a digit about once in 280: over 3,000 clusters
    // that rule (Azure's flexible server refuses such a password) would be broken with near certainty.
    for (let i = 0; i < 3_000; i++) {
      const s = generateSecrets();
      for (const [key, value] of Object.entries(s)) {
        expect(value, key).toMatch(/^[A-Za-z0-9]+$/);
        expect(/[A-Z]/.test(value) && /[a-z]/.test(value) && /[0-9]/.test(value), `${key}: ${value}`).toBe(
          true,
        );
      }
      expect(s.datastorePassword).toHaveLength(32);
      expect(s.k3sToken).toHaveLength(48);
      expect(s.rancherBootstrapPassword).toHaveLength(24);
    }
  });
});
