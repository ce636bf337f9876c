package qdm.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sharded checkpoint: {@code model.safetensors.index.json} whose {@code weight_map} names, for
 * every tensor, the shard file that holds it. All shards are opened (header only) and checked
 * against the index at open.
 */
public final class ShardedSafetensors implements TensorStore {
  private final Path index;
  private final Map<String, SafetensorsFile> owner;
  private final List<SafetensorsFile> shards;

  private ShardedSafetensors(
      Path index, Map<String, SafetensorsFile> owner, List<SafetensorsFile> shards) {
    this.index = index;
    this.owner = owner;
    this.shards = shards;
  }

  /** Opens the index and every shard it names. */
  public static ShardedSafetensors open(Path index) {
    String text;
    try {
      text = Files.readString(index);
    } catch (NoSuchFileException e) {
      throw new TensorFormatException(index, "no such file");
    } catch (IOException e) {
      throw new TensorFormatException(index, "cannot read: " + e.getMessage(), e);
    }
    JsonObject weightMap;
    try {
      JsonElement root = JsonParser.parseString(text);
      if (!root.isJsonObject()
          || !root.getAsJsonObject().has("weight_map")
          || !root.getAsJsonObject().get("weight_map").isJsonObject()) {
        throw new TensorFormatException(index, "has no \"weight_map\" object");
      }
      weightMap = root.getAsJsonObject().getAsJsonObject("weight_map");
    } catch (JsonParseException e) {
      throw new TensorFormatException(index, "is not valid JSON: " + JsonErrors.describe(e));
    }
    Path dir = index.toAbsolutePath().getParent();
    Map<String, SafetensorsFile> files = new LinkedHashMap<>();
    Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, JsonElement> e : weightMap.entrySet()) {
        JsonElement value = e.getValue();
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
          throw new TensorFormatException(
              index, e.getKey(), "has weight_map entry " + value + ", expected a shard file name");
        }
        String shardName = value.getAsString();
        SafetensorsFile shard = files.get(shardName);
        if (shard == null) {
          shard = SafetensorsFile.open(dir.resolve(shardName));
          files.put(shardName, shard);
        }
        if (!shard.contains(e.getKey())) {
          throw new TensorFormatException(
              index, e.getKey(), "is mapped to shard " + shardName + ", which does not contain it");
        }
        owner.put(e.getKey(), shard);
      }
    } catch (RuntimeException e) {
      files.values().forEach(SafetensorsFile::close);
      throw e;
    }
    return new ShardedSafetensors(
        index, Collections.unmodifiableMap(owner), List.copyOf(new ArrayList<>(files.values())));
  }

  @Override
  public Path source() {
    return index;
  }

  @Override
  public Path fileOf(String name) {
    return shard(name).source();
  }

  @Override
  public Set<String> names() {
    return owner.keySet();
  }

  @Override
  public TensorInfo info(String name) {
    return shard(name).info(name);
  }

  @Override
  public void readFloats(String name, long from, float[] dst, int dstOffset, int count) {
    shard(name).readFloats(name, from, dst, dstOffset, count);
  }

  @Override
  public long[] readLongs(String name) {
    return shard(name).readLongs(name);
  }

  private SafetensorsFile shard(String name) {
    SafetensorsFile f = owner.get(name);
    if (f == null) {
      throw new TensorFormatException(index, name, "is not in the weight_map");
    }
    return f;
  }

  @Override
  public void close() {
    shards.forEach(SafetensorsFile::close);
  }
}
