/** Reading what `cnbp build` prints, so that tests compare its lines without the parts that vary run to run. */

/** cnbp's `[cnbp] <phase> done in <n> s` lines, in order, without their durations. */
export const phasesDone = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("[cnbp] ") && l.includes(" done in "))
    .map((l) => l.replace(/ in [\d.]+ s$/, ""));
