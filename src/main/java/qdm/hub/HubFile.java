package qdm.hub;

import java.util.Optional;

/**
 * One file of a repository revision as the hub lists it, with what its download is checked against:
 * the SHA-256 of large (LFS) files, the git blob id (SHA-1 of the git blob) of the others.
 *
 * @param path path in the repository
 * @param size size in bytes, or -1 if the listing did not say
 * @param sha256 hex SHA-256 of the content (LFS files)
 * @param gitBlobId hex git blob id (small files stored in git)
 */
public record HubFile(
    String path, long size, Optional<String> sha256, Optional<String> gitBlobId) {}
