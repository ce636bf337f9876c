package qdm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jobs/qdm-submit, conf/spark-gpu.conf and jobs/gpu-discovery.sh. The wrapper runs under bash with
 * a fake SPARK_HOME whose spark-submit records its arguments: the oracle is the exact argument list
 * (and the printed line, read back by bash, must be the same list). The properties file is checked
 * against the JVM options the build itself uses and the DJL JNI jar on the classpath; the discovery
 * script runs against a fake nvidia-smi.
 */
class SubmitWrapperTest {
  static final Path ROOT = Path.of("").toAbsolutePath();
  @TempDir Path tmp;
  Path spark;
  Path jar;
  Path argsFile;

  @BeforeEach
  void fakeSpark() throws IOException {
    spark = tmp.resolve("spark");
    argsFile = tmp.resolve("args.txt");
    executable(
        spark.resolve("bin/spark-submit"),
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > \"" + argsFile + "\"\n");
    jar = Files.writeString(tmp.resolve("qdm-job.jar"), "");
  }

  static void executable(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  record Run(int exit, String out) {}

  Run run(Map<String, String> env, String script, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve(script).toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("SPARK_HOME");
    pb.environment().remove("QDM_JOB_JAR");
    pb.environment().remove("CUDA_VISIBLE_DEVICES");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Run(p.waitFor(), out);
  }

  Run submit(String... args) throws IOException, InterruptedException {
    return run(
        Map.of("SPARK_HOME", spark.toString(), "QDM_JOB_JAR", jar.toString()),
        "jobs/qdm-submit",
        args);
  }

  /** A printed command line as bash splits it into arguments. */
  static List<String> split(String line) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                "bash", "-c", "eval \"set -- $1\"; printf '%s\\n' \"$@\"", "split", line.trim())
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor());
    return out.lines().toList();
  }

  List<String> expected(String props, List<String> sparkArgs, String... qdm) {
    List<String> e =
        new ArrayList<>(
            List.of(
                spark + "/bin/spark-submit",
                "--properties-file",
                props,
                "--class",
                "qdm.cli.Main"));
    e.addAll(sparkArgs);
    e.add(jar.toString());
    e.addAll(List.of(qdm));
    return e;
  }

  @Test
  void theCommandIsPrintedAndRunAsBuilt() throws IOException, InterruptedException {
    String discovery = ROOT.resolve("jobs/gpu-discovery.sh").toString();
    List<String> want =
        expected(
            ROOT.resolve("conf/spark-gpu.conf").toString(),
            List.of("--files", discovery, "--master", "yarn", "--deploy-mode", "client"),
            "run",
            "conf/pythia-70m.conf",
            "--set",
            "run-name=it's a b",
            "--stage",
            "encode");
    String[] args = {
      "--master",
      "yarn",
      "--deploy-mode",
      "client",
      "--",
      "run",
      "conf/pythia-70m.conf",
      "--set",
      "run-name=it's a b",
      "--stage",
      "encode"
    };

    Run printed = submit(prepend("--print-command", args));
    assertEquals(0, printed.exit(), printed.out());
    assertEquals(
        String.join(" ", want.subList(0, want.size() - 4))
            + " --set 'run-name=it'\\''s a b' --stage encode",
        printed.out().trim());
    assertEquals(want, split(printed.out()));
    assertTrue(!Files.exists(argsFile), "--print-command runs nothing");

    Run ran = submit(args);
    assertEquals(0, ran.exit(), ran.out());
    assertEquals(
        want.subList(1, want.size()),
        Files.readAllLines(argsFile),
        "spark-submit got exactly these");
  }

  static String[] prepend(String first, String... rest) {
    List<String> l = new ArrayList<>(List.of(first));
    l.addAll(List.of(rest));
    return l.toArray(String[]::new);
  }

  @Test
  void optionsReplaceTheDefaultsAndFilesAreMerged() throws IOException, InterruptedException {
    Path props = Files.writeString(tmp.resolve("other.conf"), "spark.executor.memory 2g\n");
    String discovery = ROOT.resolve("jobs/gpu-discovery.sh").toString();
    Run merged =
        submit(
            "--properties-file",
            props.toString(),
            "--print-command",
            "--files",
            "a.txt",
            "--",
            "run",
            "x.conf");
    assertEquals(
        expected(props.toString(), List.of("--files", "a.txt," + discovery), "run", "x.conf"),
        split(merged.out()));

    Run noSeparator =
        submit("--print-command", "--no-discovery-script", "run", "x.conf", "--dry-run");
    assertEquals(
        expected(
            ROOT.resolve("conf/spark-gpu.conf").toString(),
            List.of(),
            "run",
            "x.conf",
            "--dry-run"),
        split(noSeparator.out()));
  }

  @Test
  void badInvocationsAreNamed() throws IOException, InterruptedException {
    Run noHome = run(Map.of("QDM_JOB_JAR", jar.toString()), "jobs/qdm-submit", "run", "x.conf");
    assertEquals(2, noHome.exit());
    assertTrue(noHome.out().contains("SPARK_HOME is not set"), noHome.out());
    Run noArgs = submit("--print-command", "--master", "yarn", "--");
    assertEquals(2, noArgs.exit());
    assertTrue(noArgs.out().contains("no qdm arguments"), noArgs.out());
    Run noProps = submit("--properties-file", "nope.conf", "run", "x.conf");
    assertEquals(2, noProps.exit());
    assertTrue(noProps.out().contains("nope.conf: properties file not found"), noProps.out());
    Run noJar = submit("--jar", tmp.resolve("missing.jar").toString(), "run", "x.conf");
    assertEquals(2, noJar.exit());
    assertTrue(noJar.out().contains("missing.jar: job jar not found"), noJar.out());
  }

  @Test
  void theGpuPropertiesGiveExecutorsWhatTheyNeed() throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(ROOT.resolve("conf/spark-gpu.conf"))) {
      p.load(in);
    }
    double gpus = Double.parseDouble(p.getProperty("spark.executor.resource.gpu.amount"));
    double perTask = Double.parseDouble(p.getProperty("spark.task.resource.gpu.amount"));
    int cores = Integer.parseInt(p.getProperty("spark.executor.cores"));
    int taskCpus = Integer.parseInt(p.getProperty("spark.task.cpus"));
    assertEquals(
        cores / taskCpus,
        (int) Math.round(gpus / perTask),
        "GPU slots and CPU slots allow the same number of concurrent tasks");
    assertEquals(
        "./gpu-discovery.sh",
        p.getProperty("spark.executor.resource.gpu.discoveryScript"),
        "the script jobs/qdm-submit ships with --files");
    assertNotNull(p.getProperty("spark.executor.memoryOverhead"));
    List<String> opens =
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-opens"))
            .toList();
    assertTrue(opens.size() >= 10, "the build's own opens: " + opens);
    for (String key : List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")) {
      List<String> options = List.of(p.getProperty(key).trim().split("\\s+"));
      assertTrue(options.containsAll(opens), key + " lacks some of " + opens);
      assertTrue(options.contains("-Dai.djl.offline=true"), key);
    }
    assertTrue(
        p.getProperty("spark.executor.extraJavaOptions").contains("-Dai.djl.pytorch.num_threads="));
    assertEquals("true", p.getProperty("spark.executorEnv.DJL_OFFLINE"));
    assertEquals("true", p.getProperty("spark.executorEnv.OPT_OUT_TRACKING"));
    assertEquals("PASSIVE", p.getProperty("spark.executorEnv.OMP_WAIT_POLICY"));
    assertNotNull(p.getProperty("spark.executorEnv.PYTORCH_LIBRARY_PATH"));

    // the libtorch version and flavor must be the ones the DJL JNI jar on the classpath has
    Properties jni = new Properties();
    try (InputStream in = getClass().getResourceAsStream("/jnilib/pytorch.properties")) {
      jni.load(in);
    }
    assertEquals(
        jni.getProperty("jni_version").split("-")[0],
        p.getProperty("spark.executorEnv.PYTORCH_VERSION"));
    String flavor = p.getProperty("spark.executorEnv.PYTORCH_FLAVOR");
    assertNotNull(
        getClass().getResource("/jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
        "the JNI jar bundles libdjl_torch.so for " + flavor);
  }

  @Test
  void theDiscoveryScriptReportsGpusAsSparkExpects() throws IOException, InterruptedException {
    Path bin = tmp.resolve("bin");
    executable(
        bin.resolve("nvidia-smi"),
        "#!/usr/bin/env bash\n"
            + "[[ \"$*\" == \"--query-gpu=index --format=csv,noheader,nounits\" ]] || exit 9\n"
            + "printf '0\\n1\\n3\\n'\n");
    String path = bin + ":/usr/bin:/bin";
    Run r = run(Map.of("PATH", path), "jobs/gpu-discovery.sh");
    assertEquals(0, r.exit(), r.out());
    JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
    assertEquals("gpu", json.get("name").getAsString());
    assertEquals("[\"0\",\"1\",\"3\"]", json.get("addresses").toString());

    Run visible = run(Map.of("PATH", path, "CUDA_VISIBLE_DEVICES", "5,7"), "jobs/gpu-discovery.sh");
    assertEquals(
        "[\"0\",\"1\"]",
        JsonParser.parseString(visible.out()).getAsJsonObject().get("addresses").toString(),
        "visible GPUs are renumbered from 0 in the process");

    Run none = run(Map.of("PATH", "/usr/bin:/bin"), "jobs/gpu-discovery.sh");
    assertEquals(1, none.exit());
    assertTrue(none.out().contains("nvidia-smi not found"), none.out());
  }
}
