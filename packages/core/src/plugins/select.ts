/**
 * Which driver a command uses: `--driver`, else `CNBP_DRIVER`, else `driver = "..."` in the config file,
 * else the first built-in engine that answers (Podman, then Docker). The answer says why, so a user who
 * did not expect it knows which setting to change.
 */
import type { DriverKind } from "../drivers/contract.js";
import { CnbpError } from "../errors.js";
import { type Discovery, type FoundDriver, findDriver } from "./discovery.js";
import { type AnyDriver, loadDriver } from "./loader.js";

/** The engines auto-detection probes, in order: Podman needs no daemon, so it is tried first. */
export const AUTO_DETECT_ORDER = ["podman", "docker"] as const;

export interface DriverSelectionRequest {
  /** `--driver`. */
  readonly flag?: string;
  /** `CNBP_DRIVER` is read from it. */
  readonly env: NodeJS.ProcessEnv;
  /** The config file's `driver` setting and the file's path. */
  readonly config?: { readonly driver?: string; readonly path: string };
  readonly discovered: Discovery;
  readonly kind: DriverKind;
  /** Loads a candidate to probe during auto-detection, with its options; default: with none. */
  readonly load?: (found: FoundDriver) => Promise<AnyDriver>;
}

export interface DriverSelection {
  readonly name: string;
  /** Why: `--driver`, `CNBP_DRIVER`, `config file <path>` or `auto-detected`. */
  readonly reason: string;
  readonly found: FoundDriver;
  /** The driver auto-detection loaded and probed (undefined when the name came from a setting). */
  readonly driver?: AnyDriver;
}

const CHOOSE_HINT =
  "choose a driver with --driver <name>, CNBP_DRIVER=<name> or `cnbp config set driver <name>`";
const LIST_HINT = "`cnbp driver list` shows the drivers cnbp finds and why a broken one cannot be used";

/**
 * Throws CnbpError CNBP_DRIVER_NOT_FOUND when the named driver is not installed (listing the ones that
 * are), CNBP_DRIVER_KIND when it is not of `kind`, CNBP_NO_DRIVER when auto-detection finds no engine that
 * answers (saying what was tried and why each failed). A named driver that discovery marked broken is
 * returned: loading it throws with the reason. While auto-detecting, an engine that does not answer moves on
 * to the next; an error from `load` itself (a bad option, a module that does not import) is thrown as is.
 */
export async function selectDriver(req: DriverSelectionRequest): Promise<DriverSelection> {
  const named = [
    { name: req.flag, reason: "--driver" },
    { name: req.env.CNBP_DRIVER, reason: "CNBP_DRIVER" },
    { name: req.config?.driver, reason: `config file ${req.config?.path}` },
  ].find((s) => s.name !== undefined && s.name !== "");
  if (named?.name) return { name: named.name, reason: named.reason, found: installed(req, named) };
  return autoDetect(req);
}

function installed(req: DriverSelectionRequest, named: { name?: string; reason: string }): FoundDriver {
  const name = named.name as string;
  const found = findDriver(req.discovered, name);
  if (!found) {
    const available = [
      ...new Set(
        req.discovered.drivers
          .filter((d) => d.status === "ok" && d.kinds.includes(req.kind))
          .map((d) => d.name),
      ),
    ];
    throw new CnbpError(
      "CNBP_DRIVER_NOT_FOUND",
      `driver ${JSON.stringify(name)} (from ${named.reason}) is not installed`,
      {
        hints: [
          available.length > 0
            ? `${req.kind} drivers installed: ${available.join(", ")}`
            : `no ${req.kind} driver is installed`,
          "install a driver package with `cnbp driver install <npm package>`",
        ],
      },
    );
  }
  if (found.status === "ok" && !found.kinds.includes(req.kind))
    throw new CnbpError(
      "CNBP_DRIVER_KIND",
      `driver ${name} (from ${named.reason}) is not a ${req.kind} driver (it is: ${found.kinds.join(", ")})`,
      { hints: [CHOOSE_HINT] },
    );
  return found;
}

async function autoDetect(req: DriverSelectionRequest): Promise<DriverSelection> {
  const load = req.load ?? ((found: FoundDriver) => loadDriver(found));
  const tried: string[] = [];
  for (const name of AUTO_DETECT_ORDER) {
    const found = findDriver(req.discovered, name);
    if (!found) tried.push(`${name} (not installed)`);
    else if (found.status !== "ok") tried.push(`${name} (${found.reason})`);
    else if (!found.kinds.includes(req.kind)) tried.push(`${name} (not a ${req.kind} driver)`);
    else {
      const driver = await load(found);
      const problem = await probe(driver);
      if (problem === undefined) return { name, reason: "auto-detected", found, driver };
      tried.push(`${name} (${problem})`);
      await driver[Symbol.asyncDispose]();
    }
  }
  throw new CnbpError("CNBP_NO_DRIVER", `no container engine answered; tried ${tried.join(", ")}`, {
    hints: [CHOOSE_HINT, LIST_HINT],
  });
}

/** Why the driver's engine does not answer, or undefined when it does (a build-only driver has nothing to ask). */
async function probe(driver: AnyDriver): Promise<string | undefined> {
  if (!("info" in driver)) return undefined;
  try {
    await driver.info();
    return undefined;
  } catch (err) {
    // the first line: the reason, not an engine's whole output
    return (err instanceof Error ? err.message : String(err)).split("\n")[0];
  }
}
