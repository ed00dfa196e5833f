// drivers build their optionsSchema with the zod cnbp validates options with
export { z } from "zod";
