import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * The grpc-js definition of a protobuf-es service, typed per method by its local name
 * (`AgentService.method.connect` → `definition.connect`).
 */
export type GrpcServiceDefinition<Methods extends GenServiceMethods> = {
  [K in keyof Methods]: MethodDefinition<
    MessageShape<Methods[K]["input"]>,
    MessageShape<Methods[K]["output"]>
  >;
};

/**
 * Builds a `@grpc/grpc-js` ServiceDefinition from a protobuf-es service descriptor.
 *
 * protobuf-es generates descriptors, not grpc-js stubs; grpc-js only needs, per method, its
 * path, its streaming kinds and four (de)serializers, which the descriptors give us. Method
 * keys are the descriptors' local names so `server.addService(def, impl)` takes an
 * implementation keyed the same way as Connect's.
 */
export function createGrpcServiceDefinition<Methods extends GenServiceMethods>(
  service: GenService<Methods>,
): GrpcServiceDefinition<Methods> & ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: kind === "client_streaming" || kind === "bidi_streaming",
      responseStream: kind === "server_streaming" || kind === "bidi_streaming",
      requestSerialize: serializerFor(method.input),
      requestDeserialize: deserializerFor(method.input),
      responseSerialize: serializerFor(method.output),
      responseDeserialize: deserializerFor(method.output),
    };
  }
  return definition as GrpcServiceDefinition<Methods> & ServiceDefinition;
}

function serializerFor(schema: DescMessage): (value: unknown) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value as MessageShape<DescMessage>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializerFor(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}
