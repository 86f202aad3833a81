// Parse each file named on the command line as a SPARQL 1.1 query with Apache Jena's ARQ (strict SPARQL 1.1
// syntax, not ARQ's extensions) and print one line per file: "OK<TAB>path" or "ERR<TAB>path<TAB>message".
// Run by tests/test_query_parsers.py as a single-file source program (`java ParseQueries.java FILE...`), so
// one JVM parses the whole batch and nothing needs compiling beforehand.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.Syntax;

public class ParseQueries {
    public static void main(String[] args) throws Exception {
        for (String name : args) {
            String text = new String(Files.readAllBytes(Path.of(name)), StandardCharsets.UTF_8);
            try {
                QueryFactory.create(text, Syntax.syntaxSPARQL_11);
                System.out.println("OK\t" + name);
            } catch (Exception err) {
                String message = String.valueOf(err.getMessage()).replaceAll("\\s+", " ").trim();
                System.out.println("ERR\t" + name + "\t" + err.getClass().getSimpleName() + ": " + message);
            }
        }
    }
}
