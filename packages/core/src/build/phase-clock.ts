/**
 * Times the phases of a build as the user sees them. A phase container is one phase; the creator runs them
 * all in one container and announces each with a `===> ANALYZING`-style line on stdout (Go's creator and
 * cnbp's print the same ones), so its phases are timed from those lines.
 */
import type { OutputSink } from "../drivers/contract.js";

export interface PhaseTiming {
  /** analyze, detect, restore, build, export (or the container's phase name). */
  readonly phase: string;
  /** Absent when the phase starts; its duration when it ends. */
  readonly seconds?: number;
}

const CONTAINER_PHASE: Record<string, string | undefined> = {
  analyzer: "analyze",
  detector: "detect",
  restorer: "restore",
  builder: "build",
  exporter: "export",
  creator: undefined,
};

const HEADER = /^===> ([A-Z]+)\s*$/;
const HEADER_PHASE: Record<string, string> = {
  ANALYZING: "analyze",
  DETECTING: "detect",
  RESTORING: "restore",
  BUILDING: "build",
  EXPORTING: "export",
  EXTENDING: "extend",
};

export class PhaseClock {
  private current: { phase: string; since: number } | undefined;
  private partial = "";

  constructor(
    container: string,
    private readonly emit: (t: PhaseTiming) => void,
  ) {
    const phase = container in CONTAINER_PHASE ? CONTAINER_PHASE[container] : container;
    if (phase) this.begin(phase);
  }

  /** A sink that passes every byte on to `sink` and watches the lines for phase headers. */
  watch(sink: OutputSink): OutputSink {
    return {
      write: (chunk: Uint8Array) => {
        this.scan(Buffer.from(chunk).toString("utf8"));
        return sink.write(chunk);
      },
    };
  }

  /** The container ended: so did its last phase. */
  end(): void {
    if (!this.current) return;
    const { phase, since } = this.current;
    this.current = undefined;
    this.emit({ phase, seconds: (performance.now() - since) / 1000 });
  }

  private scan(text: string): void {
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      const phase = HEADER_PHASE[HEADER.exec(line)?.[1] ?? ""];
      if (phase && phase !== this.current?.phase) {
        this.end();
        this.begin(phase);
      }
    }
  }

  private begin(phase: string): void {
    this.current = { phase, since: performance.now() };
    this.emit({ phase });
  }
}
