package gossip

import (
	"fmt"
	"reflect"
	"testing"
)

func TestTrackerIncarnations(t *testing.T) {
	var got []string
	tr := NewTracker(func(id string, role Role, alive bool) { got = append(got, fmt.Sprint(id, " ", role, " ", alive)) })
	w := func(name, id string) Member { return Member{Name: name, Meta: Meta{Role: RoleWorker, ID: id}} }
	tr.OnEvent(Event{Kind: EventJoin, Member: w("w-1.aa", "w-1")})
	tr.OnEvent(Event{Kind: EventUpdate, Member: w("w-1.aa", "w-1")}) // no news
	// Restart: the new incarnation joins before the old one dies.
	tr.OnEvent(Event{Kind: EventJoin, Member: w("w-1.bb", "w-1")})
	tr.OnEvent(Event{Kind: EventDead, Member: w("w-1.aa", "w-1")})
	if !tr.Alive("w-1") {
		t.Fatal("w-1 is dead after its old incarnation died")
	}
	tr.OnEvent(Event{Kind: EventDead, Member: w("w-1.bb", "w-1")})
	// A member whose metadata does not decode is ignored.
	tr.OnEvent(Event{Kind: EventJoin, Member: Member{Name: "stranger", MetaErr: ErrMeta}})
	want := []string{"w-1 worker true", "w-1 worker true", "w-1 worker false"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("notifications %q, want %q", got, want)
	}
	if tr.Alive("w-1") {
		t.Fatal("w-1 alive after all its incarnations died")
	}
}
