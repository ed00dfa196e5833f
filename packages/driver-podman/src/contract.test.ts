// Needs Podman (scripts/engines/start.sh) and the busybox test stack (scripts/stacks/build.sh).
import { runtimeDriverContract } from "@cnbp/driver-testkit";
import { createDriver } from "./index.js";

runtimeDriverContract("podman", () => createDriver());
