import type { Instance } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { instanceLinks } from "@/lib/instances";

/** The instance's ports as links to its web interfaces. */
export function InstanceLinks({ instance, host }: { instance: Instance; host: string }) {
  const links = instanceLinks(instance, host);
  if (links.length === 0) return <span className="text-xs text-ink-muted">No ports yet</span>;
  return (
    <ul className="flex flex-wrap gap-x-3 gap-y-1 text-sm">
      {links.map((link) => (
        <li key={link.label}>
          <a
            href={link.href}
            target="_blank"
            rel="noreferrer"
            className="text-accent hover:underline"
            data-testid={`link-${link.label.toLowerCase()}`}
          >
            {link.label} :{link.port}
          </a>
        </li>
      ))}
    </ul>
  );
}
