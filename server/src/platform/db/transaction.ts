import type { Db } from "./database.js";

/** A transaction handle; domain functions that must run inside one take it instead of `Db`. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Either a database handle or an open transaction. */
export type Queryable = Db | Tx;
