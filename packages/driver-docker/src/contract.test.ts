// Needs Docker (scripts/engines/start.sh) and the busybox test stack loaded into it (scripts/stacks/build.sh).
import { runtimeDriverContract } from "@cnbp/driver-testkit";
import { createDriver } from "./index.js";

runtimeDriverContract("docker", () => createDriver());
