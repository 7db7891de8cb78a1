package store
import ("testing";"context";"path/filepath")
func TestZZ(t *testing.T){
 p := filepath.Join(t.TempDir(),"x.db")
 s, err := Open(context.Background(), "sqlite:"+p); if err != nil {t.Fatal(err)}
 c,l,err := s.SchemaVersion(context.Background()); t.Log(c,l,err)
 var n int; err = s.DB().Get(&n, "SELECT count(*) FROM sqlite_master"); t.Log(n, err)
}
