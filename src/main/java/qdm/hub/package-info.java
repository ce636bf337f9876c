/**
 * Model, SAE and corpus files from the Hugging Face Hub: {@code hf://owner/name@rev/path} locations
 * ({@link qdm.hub.HubUri}) downloaded once into a local cache ({@link qdm.hub.Hub}), resumable and
 * checksummed, then used offline.
 *
 * <p>Use (what {@code qdm run} does on the driver before its preflight):
 *
 * <pre>{@code
 * var settings = HubSettings.of(cache, endpoint, offline, System.getenv());
 * Hub hub = new Hub(settings, System.err::println);
 * HubPaths paths = new HubPaths(hub, true);
 * AuditConfig local = config.mapPaths(paths::map);   // hf:// replaced by cache paths
 * }</pre>
 */
package qdm.hub;
