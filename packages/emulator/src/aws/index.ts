/**
 * The AWS cloud: one endpoint for EC2, RDS, ELBv2, STS, IAM (form-encoded Query protocols, told apart by the
 * `Version` field or the SigV4 credential scope), Route 53 (REST-XML under /2013-04-01/) and SSM, ACM
 * (awsJson1.1, told apart by `X-Amz-Target`), plus each instance's metadata service under /imds/<id>/.
 * Calls signed with an instance role's credentials are verified and authorized (auth.ts).
 */
import { randomUUID } from "node:crypto";
import type { CloudContext, CloudHandler, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { BootFaultTarget, BootReport, InventoryItem } from "../types.js";
import { children, esc } from "../xml.js";
import { AcmService, type AcmState } from "./acm.js";
import { guard } from "./auth.js";
import { BootSimulation, type BootState } from "./boot-simulation.js";
import { BootTimeline, type BootTimelineState, checkStage } from "./boot-timeline.js";
import { DEFAULT_REGION } from "./common.js";
import { type Ec2Region, Ec2Service } from "./ec2.js";
import { instanceIamOps } from "./ec2-iam.js";
import { offeringOps } from "./ec2-offerings.js";
import { type ElbRegion, Elbv2Service } from "./elbv2.js";
import { AwsError, FAULTS } from "./errors.js";
import { IamService, type IamState } from "./iam.js";
import { ImdsService } from "./imds.js";
import { type JsonService, routeJson } from "./json-protocol.js";
import { type Dialect, loadModel, type ModelName, problemToError, validateInput } from "./model.js";
import { parseQueryTree, type Tree } from "./query.js";
import { type RdsRegion, RdsService } from "./rds.js";
import { Route53Service, type Route53State } from "./route53.js";
import { SsmService } from "./ssm.js";
import { type ParameterState, ParameterStore } from "./ssm-parameters.js";
import { stsOps } from "./sts.js";
import { type HealthMode, setHealthOverride } from "./target-health.js";

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
  /** Kubeconfig writes played for server 0 instances (`simulateBoot`, boot-simulation.ts). */
  boot?: BootState;
  /** Injected bootstrap failures (`failBootstrap`, `bootFaults`; boot-timeline.ts). */
  bootTimeline?: BootTimelineState;
}

/** One request as a handler sees it. */
export interface Call {
  region: string;
  now: number;
  requestId: string;
  operation: string;
  /** The access key id of the SigV4 credential scope (only STS checks it). */
  accessKeyId?: string | undefined;
  /** The HTTP request, for the signature check of session credentials. */
  request?: CloudRequest;
}

export type QueryOp = (input: Tree, call: Call) => object | undefined | Promise<object | undefined>;

interface QuerySpec {
  /** Public service name (request log, call counts, fault filters). */
  name: "ec2" | "rds" | "elbv2" | "sts" | "iam";
  signingName: string;
  version: string;
  dialect: Exclude<Dialect, "rest-xml">;
  xmlns: string;
  model: ModelName;
  errorStyle: "ec2" | "rds" | "validation-error";
  ops: () => Record<string, QueryOp>;
}

export function xmlHeaders(requestId: string): Record<string, string> {
  return { "content-type": "text/xml", "x-amzn-RequestId": requestId, date: new Date().toUTCString() };
}

/** Key, region and service from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/<region>/<service>/aws4_request, …`. */
export function parseAuthScope(auth: string | undefined): {
  accessKeyId?: string;
  region?: string;
  service?: string;
} {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth ?? "");
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : {};
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
  readonly iam: IamService;
  readonly imds: ImdsService;
  readonly parameters: ParameterStore;
  readonly boot: BootSimulation;
  readonly timeline: BootTimeline;
  /** SSM as routed: the account's parameter store over the public parameters, every call guarded. */
  private readonly ssmRouted: JsonService;
  private readonly specs: QuerySpec[];

  constructor(readonly ctx: CloudContext) {
    this.ec2 = new Ec2Service(this);
    this.rds = new RdsService(this);
    this.elbv2 = new Elbv2Service(this);
    this.route53 = new Route53Service(this);
    this.ssm = new SsmService();
    this.acm = new AcmService(() => (this.state.acm ??= {}));
    this.iam = new IamService(this);
    this.imds = new ImdsService(this);
    this.parameters = new ParameterStore(this, this.ssm);
    this.boot = new BootSimulation(this);
    this.timeline = new BootTimeline(this);
    this.ssmRouted = {
      name: "ssm",
      targetPrefix: this.ssm.targetPrefix,
      model: this.ssm.model,
      ops: this.guarded("ssm", { ...this.ssm.ops, ...this.parameters.ops }),
    };
    const instanceIam = instanceIamOps(this);
    const offerings = offeringOps();
    const sts = stsOps();
    this.specs = [
      {
        name: "ec2",
        signingName: "ec2",
        version: "2016-11-15",
        dialect: "ec2",
        xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/",
        model: "ec2",
        errorStyle: "ec2",
        // DescribeInstanceTypeOfferings lives in its own module.
        ops: () => ({ ...this.ec2.ops, ...offerings, ...instanceIam, ...this.timeline.ops }),
      },
      {
        name: "rds",
        signingName: "rds",
        version: "2014-10-31",
        dialect: "query",
        xmlns: "http://rds.amazonaws.com/doc/2014-10-31/",
        model: "rds",
        errorStyle: "rds",
        ops: () => this.rds.ops,
      },
      {
        name: "elbv2",
        signingName: "elasticloadbalancing",
        version: "2015-12-01",
        dialect: "query",
        xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
        model: "elbv2",
        errorStyle: "validation-error",
        ops: () => this.elbv2.ops,
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
        ops: () => this.iam.ops,
      },
    ];
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
      ...this.ec2Inventory(opts.includeDefaults, now),
      ...this.rds.inventory(now),
      ...this.elbv2.inventory(now),
      ...this.route53.inventory(opts.includeDefaults, now),
      ...this.iam.inventory(),
      ...this.parameters.inventory(),
      // Certificates are only ever seeded: defaults, like fixture hosted zones.
      ...(opts.includeDefaults ? this.acm.inventory() : []),
    ];
  }

  private ec2Inventory(includeDefaults: boolean, now: number): InventoryItem[] {
    const out: InventoryItem[] = [];
    for (const [region, r] of Object.entries(this.state.ec2)) {
      const base = { cloud: "aws", service: "ec2", region };
      for (const v of Object.values(r.vpcs)) {
        if (includeDefaults || !v.seeded)
          out.push({
            ...base,
            type: "vpc",
            id: v.id,
            name: v.tags.Name,
            state: "available",
            tags: { ...v.tags },
          });
      }
      for (const s of Object.values(r.subnets)) {
        if (includeDefaults || !s.seeded)
          out.push({
            ...base,
            type: "subnet",
            id: s.id,
            name: s.tags.Name,
            state: "available",
            tags: { ...s.tags },
          });
      }
      for (const g of Object.values(r.groups)) {
        if (includeDefaults || g.name !== "default") {
          out.push({
            ...base,
            type: "security-group",
            id: g.id,
            name: g.name,
            state: "available",
            tags: { ...g.tags },
          });
        }
      }
      for (const i of Object.values(r.instances)) {
        const state = this.ec2.instanceState(i, now);
        if (state === "terminated") continue;
        out.push({ ...base, type: "instance", id: i.id, name: i.tags.Name, state, tags: { ...i.tags } });
      }
    }
    return out;
  }

  /** Is a subnet used by a DB subnet group or a load balancer? */
  subnetInUse(region: string, subnetId: string, now: number): boolean {
    return this.rds.subnetInUse(region, subnetId) || this.elbv2.subnetInUse(region, subnetId, now);
  }

  /** Is a security group attached to a DB instance or a load balancer (their network interfaces)? */
  groupInUse(region: string, groupId: string, now: number): boolean {
    return this.rds.groupInUse(region, groupId, now) || this.elbv2.groupInUse(region, groupId, now);
  }

  route(req: CloudRequest): RoutedCall | undefined {
    const scope = parseAuthScope(req.headers.authorization);
    const region = scope.region ?? DEFAULT_REGION;
    if (req.path.startsWith("/2013-04-01/")) return this.route53.route(req);
    if (req.path.startsWith("/imds/")) return this.imds.route(req);
    if (req.headers["x-amz-target"] !== undefined) {
      // Nodes' writes that time has led to land before anyone reads SSM (simulateBoot).
      if (String(req.headers["x-amz-target"]).startsWith("AmazonSSM.")) this.boot.run();
      const acm = { name: this.acm.name, targetPrefix: this.acm.targetPrefix, model: this.acm.model };
      return routeJson(
        [this.ssmRouted, { ...acm, ops: this.guarded("acm", this.acm.ops) }],
        req,
        { region, accessKeyId: scope.accessKeyId, request: req },
        this.ctx,
      );
    }

    const ctype = String(req.headers["content-type"] ?? "");
    const isForm = ctype.includes("x-www-form-urlencoded") || /(^|&)Action=/.test(req.body);
    if (!isForm && !req.query.has("Action")) return undefined;
    const params = new URLSearchParams(req.body);
    for (const [k, v] of req.query) if (!params.has(k)) params.append(k, v);
    const action = params.get("Action");
    const version = params.get("Version");
    const spec =
      this.specs.find((s) => s.version === version) ??
      this.specs.find((s) => s.signingName === scope.service);
    if (!spec || !action) return undefined;
    return {
      service: spec.name,
      operation: action,
      run: () => this.runQuery(spec, action, params, region, scope.accessKeyId, req),
      fault: (kind) => {
        const [code, status, message] = FAULTS[spec.name]![kind];
        return this.queryError(spec, action, new AwsError(code, message, status), randomUUID());
      },
    };
  }

  private async runQuery(
    spec: QuerySpec,
    action: string,
    params: URLSearchParams,
    region: string,
    accessKeyId: string | undefined,
    request: CloudRequest,
  ): Promise<HttpResponse> {
    const requestId = randomUUID();
    try {
      const handler = spec.ops()[action];
      const model = loadModel(spec.model, this.ctx.log);
      if (!handler || (model && !model.operations[action])) {
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (InvalidAction)
        const known = model?.operations[action] !== undefined;
        throw new AwsError(
          "InvalidAction",
          known
            ? `The action ${action} is not implemented by the k3sinfra emulator.`
            : `The action ${action} is not valid for this web service.`,
        );
      }
      const input = parseQueryTree(params);
      delete input.Action;
      delete input.Version;
      if (model) {
        const problems = validateInput(model, action, input, spec.dialect);
        if (problems[0]) throw problemToError(problems[0], spec.errorStyle);
      }
      // DryRun: check the request, then answer DryRunOperation (412) instead of acting
      // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html).
      if (spec.dialect === "ec2" && input.DryRun === "true") {
        throw new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
      }
      const call: Call = { region, now: this.ctx.now(), requestId, operation: action, accessKeyId, request };
      guard(
        this.iam,
        request,
        { ...call, service: spec.name },
        input,
        spec.dialect === "ec2" ? "ec2" : "query",
      );
      const result = (await handler(input, call)) ?? {};
      return {
        status: 200,
        headers: xmlHeaders(requestId),
        body: this.querySuccess(spec, action, result, requestId),
      };
    } catch (err) {
      if (err instanceof AwsError) return this.queryError(spec, action, err, requestId);
      throw err;
    }
  }

  private querySuccess(spec: QuerySpec, action: string, result: object, requestId: string): string {
    const head = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${spec.xmlns}">`;
    if (spec.dialect === "ec2") {
      return `${head}<requestId>${requestId}</requestId>${children(result as Record<string, unknown>, "item")}</${action}Response>`;
    }
    return `${head}<${action}Result>${children(result as Record<string, unknown>, "member")}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  }

  private queryError(spec: QuerySpec, _action: string, err: AwsError, requestId: string): HttpResponse {
    let body: string;
    if (spec.dialect === "ec2") {
      // EC2 error envelope: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
    } else {
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${spec.xmlns}"><Error><Type>${err.type}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    }
    return { status: err.status, headers: xmlHeaders(requestId), body };
  }

  /** Each JSON op first authenticates and authorizes its caller (role sessions; the static key passes). */
  private guarded(service: string, ops: JsonService["ops"]): JsonService["ops"] {
    const wrap =
      (op: JsonService["ops"][string]) =>
      (input: Record<string, unknown>, call: Call): ReturnType<typeof op> => {
        if (call.request) guard(this.iam, call.request, { ...call, service }, input, "json");
        return op(input, call);
      };
    return Object.fromEntries(Object.entries(ops).map(([name, op]) => [name, wrap(op)]));
  }
}

export function createAwsCloud(ctx: CloudContext): CloudHandler {
  return new AwsCloud(ctx);
}
