package qdm.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tag stripping and text rebuilding on real corpus lines; expected text written by hand. */
class BrownTextTest {

  static String resource(String name) throws IOException {
    try (InputStream in = BrownTextTest.class.getResourceAsStream("/brown/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  @Test
  void rebuildsParagraphsHeadlinesQuotesAndBrackets() throws IOException {
    List<String> paragraphs = BrownText.paragraphs(resource("sample.tagged"));
    assertEquals(
        List.of(
            "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary "
                + "election produced \"no evidence\" that any irregularities took place.",
            "Ask jail deputies",
            "On other matters, the jury recommended that: (1) Four additional deputies be employed "
                + "at the Fulton County Jail and \"a doctor, medical intern or extern be employed "
                + "for night and weekend duty at the jail\".",
            "\"We're getting more 'pro' letters than 'con' on horse race betting\", said Ratcliff.",
            "His reference to 'discredited carcass' or 'tattered remains' of the president's "
                + "leadership is an insult to the man who led our forces to victory in the greatest "
                + "war in all history, to the man who was twice elected overwhelmingly by the "
                + "American people as president of the United States, and who has been the symbol "
                + "to the world of the peace-loving intentions of the free nations."),
        paragraphs);
  }

  @Test
  void wordIsEverythingBeforeTheLastSlash() {
    assertEquals("1-1/2", BrownText.word("1-1/2/cd"));
    assertEquals("Atlanta's", BrownText.word("Atlanta's/np$"));
    assertEquals("/", BrownText.word("//in"));
  }

  @Test
  void tabStartsAParagraphEvenWithoutBlankLine() {
    String tagged =
        "\tIt/pps rained/vbd ./.\n\tThen/rb it/pps stopped/vbd ./.\n"
            + "It/pps was/bedz dry/jj ./.\n";
    assertEquals(
        List.of("It rained.", "Then it stopped. It was dry."), BrownText.paragraphs(tagged));
  }

  @Test
  void backtickOpensASingleQuote() {
    assertEquals(
        "He said 'no' twice -- and left.",
        BrownText.join(List.of("He", "said", "`", "no", "'", "twice", "--", "and", "left", ".")));
  }
}
