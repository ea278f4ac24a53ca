// tsyringe (inside @peculiar/x509) needs the Reflect metadata API when it loads: the polyfill
// import must stay first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** @peculiar/x509, loaded after the polyfill it needs; import it from here, never directly. */
export { x509 };
