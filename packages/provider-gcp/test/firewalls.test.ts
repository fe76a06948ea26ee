import { describe, expect, it } from "vitest";
import { gcp } from "../src/index.js";
import { IAP_TCP_RANGE, wantedFirewalls } from "../src/services/firewalls.js";

describe("Google Cloud firewalls and the API tunnel", () => {
  it("admits IAP TCP forwarding to the K3s API only, and prints the tunnel that uses it", () => {
    const wanted = wantedFirewalls([], "k3s-demo", "k3s-demo-nodes");
    expect(wanted).toEqual([
      expect.objectContaining({
        name: "k3s-demo-iap",
        sourceRanges: [IAP_TCP_RANGE],
        allowed: [{ IPProtocol: "tcp", ports: ["6443"] }],
      }),
    ]);
    expect(IAP_TCP_RANGE).toBe("35.235.240.0/20");
    expect(
      gcp.apiTunnel?.(
        { id: "projects/p1/zones/europe-west1-b/instances/k3s-demo-n0", privateIp: "10.0.0.2" },
        6443,
        "europe-west1",
      ),
    ).toBe(
      "gcloud compute start-iap-tunnel k3s-demo-n0 6443 --local-host-port=localhost:6443 --zone europe-west1-b --project p1",
    );
  });
});
