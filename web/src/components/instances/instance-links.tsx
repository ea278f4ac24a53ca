import type { Instance } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { instanceLinks } from "@/lib/instances";

/**
 * The instance's ports: a link for the web port, and for the ports the agent keeps on the
 * server's loopback (longpolling, Mailpit) the SSH tunnel that reaches them (decision 0140).
 */
export function InstanceLinks({ instance, host }: { instance: Instance; host: string }) {
  const links = instanceLinks(instance, host);
  if (links.length === 0) return <span className="text-xs text-ink-muted">No ports yet</span>;
  return (
    <ul className="flex flex-wrap gap-x-3 gap-y-1 text-sm">
      {links.map((link) => (
        <li key={link.label}>
          {"href" in link ? (
            <a
              href={link.href}
              target="_blank"
              rel="noreferrer"
              className="text-accent hover:underline"
              data-testid={`link-${link.label.toLowerCase()}`}
            >
              {link.label} :{link.port}
            </a>
          ) : (
            <span
              className="text-ink-muted"
              data-testid={`port-${link.label.toLowerCase()}`}
              data-port={link.port}
              title={`Only on the server's 127.0.0.1. Reach it through an SSH tunnel: ${link.tunnel}, then open http://127.0.0.1:${link.port}/`}
            >
              {link.label} 127.0.0.1:{link.port} <code className="text-xs">{link.tunnel}</code>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
