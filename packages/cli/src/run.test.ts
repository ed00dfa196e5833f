import { CnbpError } from "@cnbp/core";
import { describe, expect, it } from "vitest";
import { reportError } from "./run.js";

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("errors reaching the command line", () => {
  it("prints a CnbpError's message and hints, exit 1", () => {
    const c = captured();
    const code = reportError(new CnbpError("CNBP_X", "it broke", { hints: ["do this"] }), c.io, false);
    expect({ code, err: c.err(), out: c.out() }).toEqual({
      code: 1,
      err: "error: it broke\n  hint: do this\n",
      out: "",
    });
  });

  it("treats a third-party driver's error with a CNBP_ code as the user's to act on, not a bug", () => {
    // a driver built against its own copy of @cnbp/core throws an error of another class
    const foreign = Object.assign(new Error('driver podcli: workspace.run: no image "x"'), {
      code: "CNBP_IMAGE_NOT_FOUND",
      hints: ["pull it first"],
    });
    const c = captured();
    expect(reportError(foreign, c.io, false)).toBe(1);
    expect(c.err()).toBe('error: driver podcli: workspace.run: no image "x"\n  hint: pull it first\n');
    const j = captured();
    reportError(Object.assign(new Error("m"), { code: "CNBP_Y" }), j.io, true);
    expect(JSON.parse(j.out())).toEqual({ error: { code: "CNBP_Y", message: "m", hints: [] } });
  });

  it("calls anything else a bug in cnbp, without a stack trace", () => {
    const c = captured();
    expect(reportError(Object.assign(new Error("boom"), { code: "ENOENT" }), c.io, false)).toBe(1);
    expect(c.err()).toBe("error: boom\n  hint: this is a bug in cnbp; rerun with CNBP_DEBUG=1 for details\n");
  });
});
