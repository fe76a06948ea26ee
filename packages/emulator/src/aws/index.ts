/**
 * The AWS cloud: one endpoint for EC2, RDS, ELBv2, STS, IAM (form-encoded Query protocols, told apart by the
 * `Version` field or the SigV4 credential scope), Route 53 (REST-XML under /2013-04-01/) and SSM, ACM
 * (awsJson1.1, told apart by `X-Amz-Target`), plus each instance's metadata service under /imds/<id>/.
 * Calls signed with an instance role's credentials are verified and authorized (iam/auth.ts).
 *
 * The composition root: each service lives in its own folder and depends only on the kernel (kernel/); this
 * module builds them, gives each its slice of the state, and wires the cross-service lookups
 * (kernel/lookups.ts) from them, so that no service imports another.
 */
import type { CloudContext, CloudHandler, CloudRequest, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { BootFaultTarget, BootReport, InventoryItem } from "../types.js";
import { AcmService, type AcmState } from "./acm/service.js";
import { BootSimulation, type BootState } from "./boot/simulation.js";
import { BootTimeline, type BootTimelineState, checkStage } from "./boot/timeline.js";
import { Ec2Service, ec2Inventory, ec2Ops } from "./ec2/index.js";
import {
  Elbv2Service,
  elbv2Inventory,
  elbv2Ops,
  type HealthMode,
  loadBalancerLookup,
  setHealthOverride,
} from "./elbv2/index.js";
import type { ElbRegion } from "./elbv2/model.js";
import { guard, IamService, type IamState, iamLookup } from "./iam/index.js";
import { ImdsService } from "./imds/service.js";
import { type Call, parseAuthScope } from "./kernel/call.js";
import { DEFAULT_REGION } from "./kernel/common.js";
import { type JsonService, routeJson } from "./kernel/json-protocol.js";
import type { AwsLookups, LazySlice, ServiceKernel } from "./kernel/lookups.js";
import { type Guard, type QuerySpec, routeQuery } from "./kernel/query-protocol.js";
import type { Ec2Region } from "./kernel/shapes.js";
import { KmsService, type KmsState } from "./kms/service.js";
import { RdsService, rdsInventory, rdsOps } from "./rds/index.js";
import type { RdsRegion } from "./rds/model.js";
import type { Route53State } from "./route53/model.js";
import { route as routeRoute53 } from "./route53/protocol.js";
import { Route53Service } from "./route53/service.js";
import type { S3State } from "./s3/model.js";
import { isS3Request, routeS3Call } from "./s3/protocol.js";
import { S3Service } from "./s3/service.js";
import { type ParameterState, ParameterStore } from "./ssm/parameters.js";
import { SsmService } from "./ssm/public.js";
import { stsOps } from "./sts/service.js";

export interface AwsState {
  version: 1;
  ec2: Record<string, Ec2Region>;
  rds: Record<string, RdsRegion>;
  elbv2: Record<string, ElbRegion>;
  route53: Route53State;
  /** ACM certificates (seeded fixtures); optional so that files persisted before it still load. */
  acm?: AcmState;
  /** IAM (global) and the account's SSM parameters; optional for the same reason. */
  iam?: IamState;
  ssmParameters?: ParameterState;
  /** Kubeconfig writes played for server 0 instances (`simulateBoot`, boot/simulation.ts). */
  boot?: BootState;
  /** Injected bootstrap failures (`failBootstrap`, `bootFaults`; boot/timeline.ts). */
  bootTimeline?: BootTimelineState;
  /** S3 buckets and objects, and KMS keys; optional so that files persisted before them still load. */
  s3?: S3State;
  kms?: KmsState;
}

export class AwsCloud implements CloudHandler {
  readonly name = "aws";
  /** The state as stored (what is persisted); `state` is a watched view of it once `watch` is called. */
  #raw: AwsState = AwsCloud.emptyState();
  #view: AwsState = this.#raw;
  #onChange: (() => void) | undefined;
  readonly ec2: Ec2Service;
  readonly rds: RdsService;
  readonly elbv2: Elbv2Service;
  readonly route53: Route53Service;
  readonly ssm: SsmService;
  readonly acm: AcmService;
  readonly s3: S3Service;
  readonly kms: KmsService;
  readonly iam: IamService;
  readonly imds: ImdsService;
  readonly parameters: ParameterStore;
  readonly boot: BootSimulation;
  readonly timeline: BootTimeline;
  /** What the services ask of each other, wired below once they all exist. */
  readonly lookups: AwsLookups;
  /** SSM as routed: the account's parameter store over the public parameters, every call guarded. */
  private readonly ssmRouted: JsonService;
  private readonly specs: QuerySpec[];
  private readonly guard: Guard = (request, call, input, protocol) =>
    guard(this.iam, request, call, input, protocol);

  constructor(readonly ctx: CloudContext) {
    // Filled in below: services read their lookups when they answer a call, never while being built.
    const lookups = {} as AwsLookups;
    this.lookups = lookups;
    const kernel = <S>(state: () => S): ServiceKernel<S> => ({ ctx, lookups, state });
    this.ec2 = new Ec2Service(kernel(() => this.state.ec2));
    this.rds = new RdsService(kernel(() => this.state.rds));
    this.elbv2 = new Elbv2Service(kernel(() => this.state.elbv2));
    this.route53 = new Route53Service(kernel(() => this.state.route53));
    this.ssm = new SsmService();
    this.acm = new AcmService(() => (this.state.acm ??= {}));
    this.iam = new IamService(kernel(() => (this.state.iam ??= { roles: {}, profiles: {} })));
    this.imds = new ImdsService(ctx, lookups);
    this.s3 = new S3Service(kernel(() => (this.state.s3 ??= { buckets: {} })));
    this.kms = new KmsService(kernel(() => (this.state.kms ??= { keys: {}, aliases: {} })));
    const parameters: LazySlice<ParameterState> = {
      peek: () => this.state.ssmParameters,
      get: () => (this.state.ssmParameters ??= {}),
    };
    this.parameters = new ParameterStore(
      kernel(() => parameters),
      this.ssm,
    );
    this.boot = new BootSimulation(kernel(() => (this.state.boot ??= {})));
    this.timeline = new BootTimeline(kernel(() => (this.state.bootTimeline ??= { faults: {}, rules: [] })));
    Object.assign(lookups, {
      ec2: this.ec2,
      iam: iamLookup(this.iam),
      network: {
        // A subnet used by a DB subnet group or a load balancer; a security group attached to a DB instance
        // or a load balancer (their network interfaces).
        subnetInUse: (region, subnetId, now) =>
          this.rds.subnetInUse(region, subnetId) || this.elbv2.subnetInUse(region, subnetId, now),
        groupInUse: (region, groupId, now) =>
          this.rds.groupInUse(region, groupId, now) || this.elbv2.groupInUse(region, groupId, now),
      },
      loadBalancers: loadBalancerLookup(this.elbv2),
      boot: this.timeline,
      parameters: { putParameter: (input, call) => this.parameters.ops.PutParameter!(input, call) },
    } satisfies AwsLookups);
    this.ssmRouted = {
      name: "ssm",
      targetPrefix: this.ssm.targetPrefix,
      model: this.ssm.model,
      ops: this.guarded("ssm", { ...this.ssm.ops, ...this.parameters.ops }),
    };
    this.specs = querySpecs(this);
  }

  static emptyState(): AwsState {
    return {
      version: 1,
      ec2: {},
      rds: {},
      elbv2: {},
      route53: { zones: {}, changes: {}, callerReferences: {} },
      acm: {},
    };
  }

  endpoint(baseUrl: string): string {
    return baseUrl;
  }

  get state(): AwsState {
    return this.#view;
  }

  set state(s: AwsState) {
    this.#raw = s;
    this.#view = this.#onChange ? watchState(s, this.#onChange) : s;
    this.#onChange?.();
  }

  snapshot(): unknown {
    return this.#raw;
  }

  restore(data: unknown): void {
    const s = data as AwsState;
    if (s && s.version === 1) this.state = s;
  }

  watch(onChange: () => void): void {
    this.#onChange = onChange;
    this.#view = watchState(this.#raw, onChange);
  }

  async init(): Promise<void> {
    this.ec2.region(DEFAULT_REGION);
    this.route53.seedFixtures(this.ctx.options.fixtures?.aws?.hostedZones ?? []);
    this.acm.seedFixtures(this.ctx.options.fixtures?.aws?.certificates ?? [], this.ctx.now());
    this.timeline.init();
    await this.rds.init();
  }

  async close(): Promise<void> {
    await this.rds.close();
  }

  setTargetHealth(instanceId: string, mode: HealthMode): boolean {
    for (const r of Object.values(this.state.ec2)) {
      const i = r.instances[instanceId];
      if (i) {
        setHealthOverride(i, mode, this.ctx.now());
        return true;
      }
    }
    return false;
  }

  /** `Emulator.failBootstrap`: false for an unknown instance id. */
  failBootstrap(target: BootFaultTarget, stage: string, reason?: string): boolean {
    return this.timeline.fail(target, checkStage(stage), reason);
  }

  /** `Emulator.clearBootstrapFault`: false for an unknown instance id. */
  clearBootstrapFault(target: BootFaultTarget): boolean {
    return this.timeline.clear(target);
  }

  /** `Emulator.bootNodes()`: every pending kubeconfig write of a server 0, now. */
  bootNodes(): BootReport[] {
    return this.boot.run({ now: true });
  }

  inventory(opts: { includeDefaults: boolean }): InventoryItem[] {
    const now = this.ctx.now();
    return [
      ...ec2Inventory(this.ec2, opts.includeDefaults, now),
      ...rdsInventory(this.rds, now),
      ...elbv2Inventory(this.elbv2, now),
      ...this.route53.inventory(opts.includeDefaults, now),
      ...this.iam.inventory(),
      ...this.parameters.inventory(),
      ...this.s3.inventory(),
      ...this.kms.inventory(),
      // Certificates are only ever seeded: defaults, like fixture hosted zones.
      ...(opts.includeDefaults ? this.acm.inventory() : []),
    ];
  }

  route(req: CloudRequest): RoutedCall | undefined {
    if (req.path.startsWith("/2013-04-01/")) return routeRoute53(this.route53, req);
    if (req.path.startsWith("/imds/")) return this.imds.route(req);
    // S3 is REST-XML on any path, told apart by its SigV4 scope (s3/protocol.ts).
    if (isS3Request(req)) return routeS3Call(this.s3, req);
    if (req.headers["x-amz-target"] !== undefined) {
      const scope = parseAuthScope(req.headers.authorization);
      const region = scope.region ?? DEFAULT_REGION;
      // Nodes' writes that time has led to land before anyone reads SSM (simulateBoot).
      if (String(req.headers["x-amz-target"]).startsWith("AmazonSSM.")) this.boot.run();
      const acm = { name: this.acm.name, targetPrefix: this.acm.targetPrefix, model: this.acm.model };
      return routeJson(
        [
          this.ssmRouted,
          { ...acm, ops: this.guarded("acm", this.acm.ops) },
          {
            name: "kms",
            targetPrefix: this.kms.targetPrefix,
            model: this.kms.model,
            ops: this.guarded("kms", this.kms.ops),
          },
        ],
        req,
        { region, accessKeyId: scope.accessKeyId, request: req },
        this.ctx,
      );
    }
    return routeQuery(this.specs, req, this.ctx, this.guard);
  }

  /** Each JSON op first authenticates and authorizes its caller (role sessions; the static key passes). */
  private guarded(service: string, ops: JsonService["ops"]): JsonService["ops"] {
    const wrap =
      (op: JsonService["ops"][string]) =>
      (input: Record<string, unknown>, call: Call): ReturnType<typeof op> => {
        if (call.request) this.guard(call.request, { ...call, service }, input, "json");
        return op(input, call);
      };
    return Object.fromEntries(Object.entries(ops).map(([name, op]) => [name, wrap(op)]));
  }
}

/** The Query-protocol services: how each is recognised, validated and answered (kernel/query-protocol.ts). */
function querySpecs(cloud: AwsCloud): QuerySpec[] {
  const ec2 = { ...ec2Ops(cloud.ec2), ...cloud.timeline.ops };
  const rds = rdsOps(cloud.rds);
  const elbv2 = elbv2Ops(cloud.elbv2);
  const sts = stsOps();
  return [
    {
      name: "ec2",
      signingName: "ec2",
      version: "2016-11-15",
      dialect: "ec2",
      xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/",
      model: "ec2",
      errorStyle: "ec2",
      // GetConsoleOutput comes from the boot timeline (boot/timeline.ts).
      ops: () => ec2,
    },
    {
      name: "rds",
      signingName: "rds",
      version: "2014-10-31",
      dialect: "query",
      xmlns: "http://rds.amazonaws.com/doc/2014-10-31/",
      model: "rds",
      errorStyle: "rds",
      ops: () => rds,
    },
    {
      name: "elbv2",
      signingName: "elasticloadbalancing",
      version: "2015-12-01",
      dialect: "query",
      xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
      model: "elbv2",
      errorStyle: "validation-error",
      ops: () => elbv2,
    },
    {
      name: "sts",
      signingName: "sts",
      version: "2011-06-15",
      dialect: "query",
      xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
      model: "sts",
      errorStyle: "validation-error",
      ops: () => sts,
    },
    {
      name: "iam",
      signingName: "iam",
      version: "2010-05-08",
      dialect: "query",
      xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
      model: "iam",
      errorStyle: "validation-error",
      ops: () => cloud.iam.ops,
    },
  ];
}

export function createAwsCloud(ctx: CloudContext): CloudHandler {
  return new AwsCloud(ctx);
}
