import type { Metadata } from "next";
import Link from "next/link";
import { SshKeys } from "@/components/account/ssh-keys";
import { GatewayConnect } from "@/components/server-detail/gateway-connect";

export const metadata: Metadata = { title: "Account" };

export default function AccountPage() {
  return (
    <div className="space-y-8">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Your account</h1>
        <p className="text-ink-muted">
          <Link href="/change-password" className="text-accent hover:underline">
            Change your password
          </Link>
          , or manage the SSH keys you sign in to the SSH gateway with.
        </p>
      </header>
      <SshKeys />
      <section className="space-y-3" aria-labelledby="gateway-heading">
        <h2 id="gateway-heading" className="text-lg font-semibold">
          SSH gateway
        </h2>
        <GatewayConnect />
      </section>
    </div>
  );
}
