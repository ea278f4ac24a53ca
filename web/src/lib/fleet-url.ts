import { isServerStatus } from "./server-status";

/** The orders ListServers accepts, as the fleet page offers them. */
export const FLEET_SORTS = [
  { value: "name", label: "Name" },
  { value: "status", label: "Status" },
  { value: "last_seen desc", label: "Last seen (newest)" },
  { value: "cpu desc", label: "CPU (highest)" },
  { value: "memory desc", label: "Memory (highest)" },
  { value: "disk desc", label: "Disk (fullest)" },
] as const;

/** The fleet page's state, all of it in the URL so a view can be shared and survives a reload. */
export type FleetView = {
  /** Name or host contains this (searched by the server). */
  readonly search: string;
  readonly status: string;
  readonly selector: string;
  readonly sort: string;
  /** The page token of the page shown; empty for the first page. */
  readonly page: string;
};

export const DEFAULT_FLEET_VIEW: FleetView = { search: "", status: "", selector: "", sort: "name", page: "" };

export function parseFleetView(params: { get(name: string): string | null }): FleetView {
  const status = params.get("status") ?? "";
  const sort = params.get("sort") ?? "";
  return {
    search: params.get("q") ?? "",
    status: isServerStatus(status) ? status : "",
    selector: params.get("selector") ?? "",
    sort: FLEET_SORTS.some((option) => option.value === sort) ? sort : "name",
    page: params.get("page") ?? "",
  };
}

/** The query string of a view ("" for the default view), defaults left out. */
export function fleetViewSearch(view: FleetView): string {
  const params = new URLSearchParams();
  if (view.search) params.set("q", view.search);
  if (view.status) params.set("status", view.status);
  if (view.selector) params.set("selector", view.selector);
  if (view.sort !== "name") params.set("sort", view.sort);
  if (view.page) params.set("page", view.page);
  const text = params.toString();
  return text ? `?${text}` : "";
}
