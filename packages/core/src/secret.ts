import { inspect } from "node:util";

const REDACTED = "********";

/**
 * A value that must never reach a log, an event, an error or stdout. It prints as `********` through
 * `String()`, template literals, `JSON.stringify` and `util.inspect`; only `reveal()` returns the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The plaintext. Call it only where the value must leave the process (a cloud API call, an output file). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
  static readonly redacted = REDACTED;
}

export const isSecret = (v: unknown): v is Secret => v instanceof Secret;
