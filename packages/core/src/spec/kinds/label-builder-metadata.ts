/**
 * io.buildpacks.builder.metadata: what a platform needs from a builder without pulling it (files.md
 * 3.5). Older builders lack `images` (use `stack.runImage`) or `apis` (use `api`); lifecycle images
 * carry a legacy form with `lifecycle` only.
 */
import { z } from "zod";
import type { FileKind } from "../file-kind.js";
import { apiVersionString, license } from "../schema.js";

const moduleInfo = z.looseObject({
  id: z.string().min(1),
  version: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  homepage: z.string().optional(),
  keywords: z.array(z.string()).nullable().optional(),
  licenses: z.array(license).nullable().optional(),
  "clear-env": z.boolean().optional(),
  "exec-env": z.array(z.string()).nullable().optional(),
});

const runImage = z.looseObject({ image: z.string(), mirrors: z.array(z.string()).nullable().optional() });

const apiList = z.array(apiVersionString).nullable().optional();
const apiVersions = z.looseObject({ deprecated: apiList, supported: apiList });

const schema = z.looseObject({
  description: z.string().optional(),
  buildpacks: z.array(moduleInfo).nullable().optional(),
  extensions: z.array(moduleInfo).nullable().optional(),
  stack: z.looseObject({ runImage: runImage.partial().optional() }).optional(),
  images: z.array(runImage).nullable().optional(),
  lifecycle: z
    .looseObject({
      version: z.string().optional(),
      api: z
        .looseObject({
          buildpack: apiVersionString.nullable().optional(),
          platform: apiVersionString.nullable().optional(),
        })
        .optional(),
      apis: z.looseObject({ buildpack: apiVersions.optional(), platform: apiVersions.optional() }).optional(),
    })
    .optional(),
  createdBy: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
});

export type BuilderMetadata = z.infer<typeof schema>;

export interface RunImageChoice {
  image: string;
  mirrors: string[];
}

/** The builder's run images, first = default: `images`, else the deprecated `stack.runImage`. */
export function builderMetadataRunImages(md: BuilderMetadata): RunImageChoice[] {
  const images = (md.images ?? []).filter((r) => r.image);
  if (images.length) return images.map((r) => ({ image: r.image, mirrors: r.mirrors ?? [] }));
  const legacy = md.stack?.runImage;
  return legacy?.image ? [{ image: legacy.image, mirrors: legacy.mirrors ?? [] }] : [];
}

export interface ApiSupport {
  deprecated: string[];
  supported: string[];
}

/**
 * The APIs the builder's lifecycle supports: `lifecycle.apis`, else the single legacy `lifecycle.api`
 * version per spec; undefined when the label says nothing about `kind`.
 */
export function builderLifecycleApis(
  md: BuilderMetadata,
  kind: "buildpack" | "platform",
): ApiSupport | undefined {
  const apis = md.lifecycle?.apis?.[kind];
  if (apis?.supported?.length) return { deprecated: apis.deprecated ?? [], supported: apis.supported };
  const legacy = md.lifecycle?.api?.[kind];
  return legacy ? { deprecated: [], supported: [legacy] } : undefined;
}

export const builderMetadataLabel: FileKind<BuilderMetadata> = {
  name: "io.buildpacks.builder.metadata",
  fileNames: [],
  format: "json",
  summary: "builder label: modules, run images, lifecycle version and APIs, creator",
  schema,
};
