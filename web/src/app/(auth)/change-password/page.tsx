import type { Metadata } from "next";
import { AuthGuard } from "@/components/auth/auth-guard";
import { ChangePasswordForm } from "@/components/auth/change-password-form";

export const metadata: Metadata = { title: "Change password" };

export default function ChangePasswordPage() {
  return (
    <AuthGuard allowPasswordChange>
      <ChangePasswordForm />
    </AuthGuard>
  );
}
