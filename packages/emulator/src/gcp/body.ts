/** Request bodies as Compute Engine reads them: parsing, and the references they hold. */
import { GcpError } from "./errors.js";
import { refPath, selfLink } from "./model.js";

/** Every string in a body that is a compute reference, normalised to its path key. */
export function refsIn(value: unknown, project: string, out: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") {
    const p = refPath(value, project);
    if (p) out.add(p);
  } else if (Array.isArray(value)) for (const v of value) refsIn(v, project, out);
  else if (value && typeof value === "object")
    // `__` fields are the emulator's own bookkeeping (group members), not references the API would refuse on.
    for (const [k, v] of Object.entries(value)) if (!k.startsWith("__")) refsIn(v, project, out);
  return out;
}

/** The body with every reference written as a full URL, as the API answers. */
export function normalise(value: unknown, project: string): unknown {
  if (typeof value === "string") {
    const p = refPath(value, project);
    return p ? selfLink(p) : value;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, project));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, project)]));
  return value;
}

/** A request body as JSON; the clients send `""` (a JSON string) for bodiless POSTs such as `wait`. */
export function parseBody(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GcpError(400, "parseError", "Parse Error");
  }
  return parsed && typeof parsed === "object" && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}
