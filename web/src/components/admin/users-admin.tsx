"use client";

import { useQuery } from "@connectrpc/connect-query";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { useCurrentUser } from "@/components/auth/current-user";
import { CreateUserForm } from "./create-user-form";
import { ListError, ListSkeleton } from "./query-state";
import { UserRow } from "./user-row";

/** Users and their role bindings, and the roles there are. */
export function UsersAdmin() {
  const users = useQuery(UserService.method.listUsers, {});
  const roles = useQuery(UserService.method.listRoles, {});
  const me = useCurrentUser().data?.user?.id;
  const refetch = () => {
    void users.refetch();
  };
  const error = users.error ?? roles.error;

  return (
    <div className="space-y-8">
      <section className="space-y-3" aria-labelledby="users-heading">
        <h2 id="users-heading" className="text-lg font-semibold">
          Users
        </h2>
        {error ? (
          <ListError
            error={error}
            permission="users.read"
            retrying={users.isFetching || roles.isFetching}
            onRetry={() => {
              void users.refetch();
              void roles.refetch();
            }}
            testId="users-error"
          />
        ) : !users.data || !roles.data ? (
          <ListSkeleton label="Loading users…" testId="users-loading" />
        ) : (
          <>
            <CreateUserForm roles={roles.data.roles} onCreated={refetch} />
            {users.data.users.length === 0 ? (
              <p className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted">
                No users yet. Create one above.
              </p>
            ) : (
              <ul
                className="divide-y divide-line rounded-lg border border-line bg-surface"
                data-testid="user-list"
              >
                {users.data.users.map((user) => (
                  <UserRow
                    key={user.id}
                    user={user}
                    roles={roles.data.roles}
                    isSelf={user.id === me}
                    onChanged={refetch}
                  />
                ))}
              </ul>
            )}
          </>
        )}
      </section>
      {roles.data ? (
        <section className="space-y-3" aria-labelledby="roles-heading">
          <h2 id="roles-heading" className="text-lg font-semibold">
            Roles
          </h2>
          <ul
            className="divide-y divide-line rounded-lg border border-line bg-surface"
            data-testid="role-list"
          >
            {roles.data.roles.map((role) => (
              <li key={role.name} className="space-y-1 p-4">
                <p className="font-medium">
                  {role.name}
                  {role.builtin ? (
                    <span className="ml-2 text-xs font-normal text-ink-muted">built in</span>
                  ) : null}
                </p>
                {role.description ? <p className="text-sm text-ink-muted">{role.description}</p> : null}
                <details className="text-sm">
                  <summary className="cursor-pointer text-ink-muted">
                    {role.permissions.length} permissions
                  </summary>
                  <ul className="mt-1 flex flex-wrap gap-1">
                    {role.permissions.map((permission) => (
                      <li
                        key={permission}
                        className="rounded border border-line bg-surface-muted px-1.5 py-0.5 font-mono text-xs"
                      >
                        {permission}
                      </li>
                    ))}
                  </ul>
                </details>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
