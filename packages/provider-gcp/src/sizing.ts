/**
 * The smallest E2 machine type with at least the asked vCPUs and memory: e2-standard-N has 4 GB per vCPU,
 * e2-highmem-N 8 GB (https://cloud.google.com/compute/docs/general-purpose-machines#e2_machine_types).
 */
export function machineTypeFor(size: { vcpus: number; memoryGiB: number }): string {
  for (const n of [2, 4, 8, 16, 32]) {
    if (n < size.vcpus) continue;
    if (4 * n >= size.memoryGiB) return `e2-standard-${n}`;
    if (n <= 16 && 8 * n >= size.memoryGiB) return `e2-highmem-${n}`;
  }
  return "e2-standard-32";
}

/**
 * Portable image names as Ubuntu's image families in ubuntu-os-cloud; the family needs the architecture
 * suffix for 24.04 (https://cloud.google.com/compute/docs/images/os-details#ubuntu_lts).
 */
export function imageFor(image: string): string {
  if (image.startsWith("projects/")) return image;
  const families: Record<string, string> = {
    "ubuntu-24.04": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
    "ubuntu-22.04": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
  };
  return families[image] ?? image;
}
