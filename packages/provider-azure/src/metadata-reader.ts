import type { MetadataReader } from "@k3sinfra/core";

/**
 * How an Azure VM reads a value the provider published (`AzureNodeService.publish`): its own tags, key
 * `k3sinfra:<key>`, from the Instance Metadata Service (`Metadata: true` is required; tag changes show
 * while it runs). Ubuntu images ship python3, which parses the JSON list.
 * https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service#get-tags
 */
export const AZURE_METADATA_READER: MetadataReader = [
  "  curl -fsS -m 5 -H 'Metadata: true' \\",
  "    'http://169.254.169.254/metadata/instance/compute/tagsList?api-version=2021-02-01' |",
  '    python3 -c \'import json,sys; k="k3sinfra:"+sys.argv[1]; print(next((t["value"] for t in json.load(sys.stdin) if t["name"]==k), ""), end="")\' "$1"',
].join("\n");
