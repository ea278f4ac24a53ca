import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's built-in account (it checks request signatures against it). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface S3Emulator {
  readonly endpoint: string;
  readonly bucket: string;
  /** A client on the emulator, to look at the bucket from outside the store. */
  readonly client: S3Client;
  close(): Promise<void>;
}

/** A real S3 emulator (s3rver) on a free local port, with one empty bucket. */
export async function startS3Emulator(bucket = "ocore-test"): Promise<S3Emulator> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "ocore-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: EMULATOR_CREDENTIALS,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    client,
    close: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
