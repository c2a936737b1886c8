import { z } from 'zod';

/** The agent protocol: JSON lines over the virtio-serial port `lab.agent`. Imported by both sides. */
export const AGENT_PORT_NAME = 'lab.agent';

export const Params = z.record(z.union([z.string(), z.number(), z.boolean()]));
export type Params = z.infer<typeof Params>;

export const Features = z.object({
  maps: z.record(z.boolean()),
  programs: z.record(z.boolean()),
  helpers: z.record(z.boolean()),
  btf: z.boolean(),
});
export type Features = z.infer<typeof Features>;

export const HostMessage = z.discriminatedUnion('op', [
  z.object({ id: z.number(), op: z.literal('probe') }),
  z.object({
    id: z.number(),
    op: z.literal('run'),
    scenario: z.string(),
    params: Params,
    quick: z.boolean(),
    /** host-built tools for this guest's kernel line: name → path (same path in the guest) */
    tools: z.record(z.string()).optional(),
  }),
  z.object({ id: z.number(), op: z.literal('exec'), argv: z.array(z.string()).min(1), timeoutMs: z.number().optional() }),
  z.object({ id: z.number(), op: z.literal('shutdown') }),
]);
export type HostMessage = z.infer<typeof HostMessage>;

export const Sample = z.object({
  variant: z.string(),
  metric: z.string(),
  unit: z.string(),
  value: z.number(),
  repetition: z.number().int(),
  /** extra parameters the driver attaches to this sample (e.g. per-CPU index) */
  labels: Params.optional(),
});
export type Sample = z.infer<typeof Sample>;

export const GuestMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    release: z.string(),
    uptimeS: z.number(),
    vcpus: z.number(),
    cpuModel: z.string(),
    memoryKb: z.number(),
    /** the guest kernel's clocksource at hello (under TCG usually hpet: the kernel finds the vCPUs' TSCs unsynchronized) */
    clocksource: z.string().optional(),
    features: Features.nullable(),
    featureError: z.string().optional(),
  }),
  z.object({ id: z.number(), type: z.literal('log'), msg: z.string() }),
  /** something the user must see (a variant not run as asked, a counter that disagrees): report, manifest, stderr */
  z.object({ id: z.number(), type: z.literal('warning'), msg: z.string() }),
  /** one variant could not run; the run goes on and the variants measured before it stay valid */
  z.object({ id: z.number(), type: z.literal('skipped'), variant: z.string(), reason: z.string() }),
  z.object({ id: z.number(), type: z.literal('progress'), label: z.string(), done: z.number(), total: z.number() }),
  z.object({ id: z.number(), type: z.literal('sample'), sample: Sample }),
  z.object({ id: z.number(), type: z.literal('result'), data: z.unknown().optional() }),
  z.object({ id: z.number(), type: z.literal('error'), message: z.string(), skipped: z.boolean().optional() }),
]);
export type GuestMessage = z.infer<typeof GuestMessage>;
export type Hello = Extract<GuestMessage, { type: 'hello' }>;

/** Split a byte stream into JSON lines; incomplete tails wait for more data. */
export class LineSplitter {
  private buf = '';
  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop()!;
    return lines.filter((l) => l.trim().length > 0);
  }
}

/** A host message before the client numbers it. */
export type HostRequest = HostMessage extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;
