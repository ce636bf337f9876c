package qdm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuKernelsTest {

  @Test
  void pinnedOnlyWhenBothVariablesAreSet() {
    CpuKernels both = CpuKernels.of(Map.of("ATEN_CPU_CAPABILITY", "avx2", "MKL_CBWR", "AVX2"));
    assertTrue(both.pinned());
    assertEquals("cpu kernels: ATEN_CPU_CAPABILITY=avx2, MKL_CBWR=AVX2", both.describe());
    assertEquals(
        "{\"ATEN_CPU_CAPABILITY\":\"avx2\",\"MKL_CBWR\":\"AVX2\"}", both.toJson().toString());

    CpuKernels one = CpuKernels.of(Map.of("MKL_CBWR", "AVX2"));
    assertFalse(one.pinned());
    assertTrue(one.describe().contains("not both set"), one.describe());
    assertEquals(
        "{\"ATEN_CPU_CAPABILITY\":\"unset\",\"MKL_CBWR\":\"AVX2\"}", one.toJson().toString());
    assertFalse(CpuKernels.of(Map.of()).pinned());
  }
}
