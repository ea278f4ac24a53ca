import os from "node:os";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type ServiceError, status } from "@grpc/grpc-js";
import { EnrollRequestSchema } from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { callEnroll } from "../connection/grpc-clients.js";
import { parseServerAddress } from "../connection/server-address.js";
import { caPinOfPem, computeCaPin, fetchPresentedCa, pinsEqual } from "../identity/ca-pin.js";
import { certificateMatchesKey, readCertificateInfo } from "../identity/certificate-lifetime.js";
import type { IdentityStore } from "../identity/identity-store.js";
import { generateKeyAndCsr } from "../identity/key-pair.js";
import { EnrollmentError } from "./enrollment-error.js";
import { parseEnrollmentToken } from "./enrollment-token.js";

export interface EnrollResult {
  readonly serverId: string;
  readonly notAfter: Date;
}

function explainRpcFailure(server: string, error: unknown): EnrollmentError {
  const grpcError = error as Partial<ServiceError>;
  const details = grpcError.details || (error instanceof Error ? error.message : String(error));
  switch (grpcError.code) {
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
    case status.NOT_FOUND:
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
      return new EnrollmentError(
        `the server at ${server} refused the enrollment: ${details}. Tokens are single-use and expire; create a new one in the console.`,
        { cause: error },
      );
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new EnrollmentError(`cannot reach the enrollment service at ${server}: ${details}`, {
        cause: error,
      });
    default:
      return new EnrollmentError(`enrollment at ${server} failed: ${details}`, { cause: error });
  }
}

/**
 * Enrolls this host: checks that the server's CA is the one pinned in the token (before sending
 * the token anywhere), generates the key here, sends only a CSR, and stores key, certificate,
 * CA and the server address with 0600 permissions.
 */
export async function enroll(options: {
  server: string;
  token: string;
  store: IdentityStore;
  agentVersion: string;
  hostname?: string;
  now?: () => Date;
}): Promise<EnrollResult> {
  const token = parseEnrollmentToken(options.token);
  let address: ReturnType<typeof parseServerAddress>;
  try {
    address = parseServerAddress(options.server);
  } catch (error) {
    throw new EnrollmentError(`--server: ${(error as Error).message}`);
  }
  const hostname = options.hostname ?? os.hostname();

  let presented: Awaited<ReturnType<typeof fetchPresentedCa>>;
  try {
    presented = await fetchPresentedCa(address.host, address.port);
  } catch (error) {
    throw new EnrollmentError(
      `cannot read the TLS certificate of ${address.text}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  if (!pinsEqual(token.caPin, computeCaPin(presented.der))) {
    throw new EnrollmentError(
      `the server at ${address.text} presented a CA that does not match the token: wrong server or a man in the middle. Nothing was sent.`,
    );
  }

  const { keyPem, csrPem } = await generateKeyAndCsr(hostname);
  const request = create(EnrollRequestSchema, {
    token: token.text,
    csrPem,
    hostname,
    agentVersion: options.agentVersion,
  });
  const response = await callEnroll(address, presented.pem, request).catch((error: unknown) => {
    throw explainRpcFailure(address.text, error);
  });

  // The CA we keep is the one we pinned; the response must agree, and the certificate must be ours.
  if (response.caCertificatePem && !pinsEqual(token.caPin, caPinOfPem(response.caCertificatePem))) {
    throw new EnrollmentError(
      `the server at ${address.text} answered with a different CA than the one it presented`,
    );
  }
  if (!certificateMatchesKey(response.certificatePem, keyPem)) {
    throw new EnrollmentError(`the server at ${address.text} returned a certificate for another key`);
  }
  const info = readCertificateInfo(response.certificatePem);
  if (response.serverId && info.commonName !== response.serverId) {
    throw new EnrollmentError(
      `the certificate names server ${info.commonName}, the answer says ${response.serverId}: refusing an inconsistent identity`,
    );
  }

  await options.store.saveEnrollment(
    { keyPem, certificatePem: response.certificatePem, caPem: presented.pem },
    {
      server: address.text,
      serverId: info.commonName,
      enrolledAt: (options.now?.() ?? new Date()).toISOString(),
    },
  );
  return {
    serverId: info.commonName,
    notAfter: response.notAfter ? timestampDate(response.notAfter) : info.notAfter,
  };
}
