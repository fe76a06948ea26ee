/** A machine shape: vCPUs and memory. */
export interface Shape {
  readonly vcpus: number;
  readonly memoryGiB: number;
}

type Row = readonly [name: string, vcpus: number, memoryGiB: number];

// General purpose Dsv5 first, then memory-optimised Esv5, compute-optimised Fsv2 (cheapest fitting first).
// https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/general-purpose/dsv5-series
const VM_SIZES: readonly Row[] = [
  ["Standard_B2s", 2, 4],
  ["Standard_D2s_v5", 2, 8],
  ["Standard_E2s_v5", 2, 16],
  ["Standard_F4s_v2", 4, 8],
  ["Standard_D4s_v5", 4, 16],
  ["Standard_E4s_v5", 4, 32],
  ["Standard_F8s_v2", 8, 16],
  ["Standard_D8s_v5", 8, 32],
  ["Standard_E8s_v5", 8, 64],
  ["Standard_D16s_v5", 16, 64],
  ["Standard_E16s_v5", 16, 128],
  ["Standard_D32s_v5", 32, 128],
  ["Standard_D48s_v5", 48, 192],
  ["Standard_D64s_v5", 64, 256],
];

// MySQL flexible server compute: General Purpose (Ddsv4) and Business Critical (Edsv4); no Burstable, which has no
// high availability and drains CPU credits under K3s's constant writes.
// https://learn.microsoft.com/en-us/azure/mysql/flexible-server/concepts-service-tiers-storage
const DB_SKUS: readonly (readonly [name: string, vcpus: number, memoryGiB: number, tier: string])[] = [
  ["Standard_D2ds_v4", 2, 8, "GeneralPurpose"],
  ["Standard_E2ds_v4", 2, 16, "MemoryOptimized"],
  ["Standard_D4ds_v4", 4, 16, "GeneralPurpose"],
  ["Standard_E4ds_v4", 4, 32, "MemoryOptimized"],
  ["Standard_D8ds_v4", 8, 32, "GeneralPurpose"],
  ["Standard_E8ds_v4", 8, 64, "MemoryOptimized"],
  ["Standard_D16ds_v4", 16, 64, "GeneralPurpose"],
  ["Standard_E16ds_v4", 16, 128, "MemoryOptimized"],
  ["Standard_D32ds_v4", 32, 128, "GeneralPurpose"],
  ["Standard_D48ds_v4", 48, 192, "GeneralPurpose"],
  ["Standard_D64ds_v4", 64, 256, "GeneralPurpose"],
];

/** The cheapest listed VM size with at least this shape (4 vCPU / 16 GiB → Standard_D4s_v5). */
export const vmSize = (shape: Shape): string | undefined =>
  VM_SIZES.find(([, v, m]) => v >= shape.vcpus && m >= shape.memoryGiB)?.[0];

/** The MySQL flexible server SKU and tier for a shape, or for a SKU name given as is. */
export function datastoreSku(shape: Shape, name?: string): { name: string; tier: string } | undefined {
  if (name)
    return {
      name,
      tier: /^Standard_E/.test(name)
        ? "MemoryOptimized"
        : /^Standard_B/.test(name)
          ? "Burstable"
          : "GeneralPurpose",
    };
  const row = DB_SKUS.find(([, v, m]) => v >= shape.vcpus && m >= shape.memoryGiB);
  return row ? { name: row[0], tier: row[3] } : undefined;
}

/** Portable image names and the marketplace images they stand for (Canonical's Ubuntu 24.04 LTS, gen2). */
export const IMAGES: Readonly<
  Record<string, { publisher: string; offer: string; sku: string; version: string }>
> = {
  "ubuntu-24.04": { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
  "ubuntu-22.04": {
    publisher: "Canonical",
    offer: "0001-com-ubuntu-server-jammy",
    sku: "22_04-lts-gen2",
    version: "latest",
  },
};
