import type { Tags } from "@k3sinfra/core";

/**
 * Ownership tags as GCP labels. Label keys and values allow only lowercase letters, digits, `_` and `-`
 * (keys start with a letter; both at most 63 characters: https://cloud.google.com/compute/docs/labeling-resources#requirements),
 * so `k3sinfra:cluster` is written `k3sinfra-cluster`, and a value is lowercased with anything else as `_`.
 */
export const labelKey = (key: string): string =>
  key
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 63);
export const labelValue = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "_")
    .slice(0, 63);

/** Tags as labels, for resources that have them (instances, addresses, forwarding rules, Cloud SQL). */
export const toLabels = (tags: Tags): Record<string, string> =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [labelKey(k), labelValue(v)]));

/** True when labels carry every tag. */
export const hasLabels = (labels: Readonly<Record<string, string>> | null | undefined, tags: Tags): boolean =>
  Object.entries(toLabels(tags)).every(([k, v]) => labels?.[k] === v);

const MARK = /\[k3sinfra ([^\]]*)\]\s*$/;

/**
 * Firewalls, health checks, backend services, instance groups, URL maps and proxies have no labels
 * (compute.proto: no `labels` field on them): their ownership is a marker at the end of the description,
 * `[k3sinfra k3sinfra-cluster=prod k3sinfra-resource=network …]`.
 */
export const describeOwned = (text: string, tags: Tags): string =>
  `${text} [k3sinfra ${Object.entries(toLabels(tags))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}]`;

/** The labels a description's marker carries (empty without one). */
export const markerLabels = (description: string | null | undefined): Record<string, string> => {
  const m = MARK.exec(description ?? "");
  if (!m) return {};
  return Object.fromEntries(
    (m[1] ?? "")
      .split(" ")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]),
  );
};
